"""Publish a checkpoint folder to the Hugging Face Hub, with its model card.

    python -m scripts.publish checkpoints/moving-mnist ORG/NAME [--private]

The folder is loaded first with convlstm.load_model (strict: every weight must match the
config), so a broken checkpoint is never published. PyTorchModelHubMixin.push_to_hub uploads
config.json and model.safetensors; the folder's own card (README.md) and its training.json /
evaluation*.json, when present, are uploaded beside them, replacing the mixin's generic card.
Needs a token with write access (`hf auth login` or HF_TOKEN) and network access.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from huggingface_hub import HfApi

from convlstm import load_model

EXTRAS = ("README.md", "training.json", "evaluation*.json")  # the card and what the app's model panel reads


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", help="checkpoint folder (config.json, model.safetensors, README.md, ...)")
    p.add_argument("repo_id", help="Hub model repo to create or update, ORG/NAME")
    p.add_argument("--private", action="store_true", help="create the repo as private")
    p.add_argument("--message", default="Upload ConvLSTM checkpoint", help="commit message")
    args = p.parse_args(argv)

    folder = Path(args.folder)
    model = load_model(folder, device="cpu")
    commit = model.push_to_hub(args.repo_id, private=args.private, commit_message=args.message)
    extras = sorted(path.name for pattern in EXTRAS for path in folder.glob(pattern) if path.is_file())
    if extras:
        commit = HfApi().upload_folder(repo_id=args.repo_id, folder_path=folder, allow_patterns=extras,
                                       commit_message=f"{args.message}: {', '.join(extras)}")
    print(f"published {folder} to https://huggingface.co/{args.repo_id} ({commit})")


if __name__ == "__main__":
    main()
