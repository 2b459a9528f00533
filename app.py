"""ConvLSTM Nowcast: forecast the next frames of Moving MNIST or of your own sequence, beside
optical-flow and persistence baselines (and, for video, a second ConvLSTM with the advection head).
UI only: the page, its two tabs built by convlstm.ui.video_tab and convlstm.ui.radar_tab, and the launch;
each request is one call of the backend (convlstm.serve.requests).

    python app.py                                   # the bundled checkpoint
    python app.py --model ORG/NAME --revision v1    # a Hub repo (or: CONVLSTM_MODEL=ORG/NAME)
    python app.py --model path/to/checkpoint        # a local folder
    python app.py --mcp                             # the forecasts as MCP tools too (requirements-mcp.txt)

A page opened as /?seed=7&digits=1&horizon=10 (optionally &model=ORG/NAME&revision=REV) shows
that Moving MNIST forecast, /?radar=synthetic&seed=4&intensity=1.5&motion=rotation or /?radar=fmi_2016-09-28
that radar forecast; without such a query it shows the forecasts made at start-up.
"""

# On Hugging Face ZeroGPU Spaces, `spaces` must be imported before torch; elsewhere it's absent
# and @gpu does nothing.
try:
    import spaces

    gpu = spaces.GPU
except ImportError:
    def gpu(fn):
        return fn

import argparse  # noqa: E402 (after the spaces import, on purpose)
import importlib.util  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from convlstm import CheckpointError  # noqa: E402
from convlstm.data import limits  # noqa: E402
from convlstm.serve import requests  # noqa: E402
from convlstm.serve.requests import Backend  # noqa: E402
from convlstm.ui import panels  # noqa: E402
from convlstm.ui.radar_tab import radar_tab  # noqa: E402
from convlstm.ui.video_tab import video_tab  # noqa: E402

PAGE = Path(panels.__file__).parent  # the page's style sheet and script
CONCURRENCY = 2  # forecasts running at once; the rest wait in the queue (a CPU Space has 2 cores)
GUIDE = """\
# ConvLSTM Nowcast
A Convolutional LSTM ([Shi et al., NeurIPS 2015](https://arxiv.org/abs/1506.04214)) forecasts the next frames,
beside two baselines: **optical flow** (the motion seen, continued) and **persistence** (the last frame stays).
"""
CARDS = {"video model": "moving-mnist-objects", "advection model": "moving-mnist-advection",
         "paper's video model": "moving-mnist", "radar model": "radar"}


def sources(space: str | None) -> str:
    """The page's foot: where its code and the bundled models' cards are, linked on a Hugging Face Space (``space``,
    its ORG/NAME), else the folder they are in."""
    if not space:
        return "The code and the model cards (`checkpoints/*/README.md`) are in the folder this app runs from."
    files = f"https://huggingface.co/spaces/{space}"
    cards = ", ".join(f"[{name}]({files}/blob/main/checkpoints/{folder}/README.md)" for name, folder in CARDS.items())
    return f"[The code]({files}/tree/main) · the model cards: {cards}."


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.environ.get("CONVLSTM_MODEL"),
                   help="Hub repo id (ORG/NAME) or checkpoint folder; default: env CONVLSTM_MODEL, "
                        "else the bundled checkpoints/moving-mnist-objects")
    p.add_argument("--revision", default=os.environ.get("CONVLSTM_REVISION"),
                   help="Hub revision to pin: a branch, tag or commit hash (default: env CONVLSTM_REVISION)")
    p.add_argument("--hub-only", action="store_true", default=bool(os.environ.get("SPACE_ID")),
                   help="visitors may load other models from the Hugging Face Hub only, never a folder of this "
                        "server's (the default on a Hugging Face Space, which sets SPACE_ID)")
    p.add_argument("--mcp", action="store_true",
                   help="serve the forecasts as MCP tools too, at /gradio_api/mcp/ (needs the mcp package: "
                        "pip install -r requirements-mcp.txt); the same as env GRADIO_MCP_SERVER=True")
    return p.parse_args(argv)


ARGS = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
MCP = ARGS.mcp or os.environ.get("GRADIO_MCP_SERVER", "").lower() == "true"
if MCP and importlib.util.find_spec("mcp") is None:
    raise SystemExit("The app can't start: the MCP server needs the mcp package: pip install -r requirements-mcp.txt")
if MCP:
    # The forecasts' gr.State input is the web session's model; an MCP call has no session and
    # uses the app's model, as the tool descriptions say.
    warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State input")
BACKEND = Backend(ARGS.model, ARGS.revision, hub_only=ARGS.hub_only)  # loads its models at launch, or when first used


# --- the page ---------------------------------------------------------------------------------

with gr.Blocks(title="ConvLSTM Nowcast", delete_cache=(600, 3600)) as demo:
    gr.Markdown(GUIDE, elem_id="guide")

    with gr.Tabs() as tabs:
        video = video_tab(BACKEND, gpu, hub_only=ARGS.hub_only, mcp=MCP)
        radar = radar_tab(BACKEND, gpu)
    gr.Markdown(sources(os.environ.get("SPACE_ID")), elem_id="sources")

    # The first views: the start-up forecasts at once, outside the forecasts' queue slots (a Moving MNIST link's
    # forecast follows, in them).
    demo.load(video.first_view, None, video.shown_on_load, api_visibility="private", concurrency_limit=None)
    demo.load(radar.first_view, None, [tabs, *radar.shown_on_load], api_visibility="private",
              concurrency_limit=None)

demo.queue(default_concurrency_limit=CONCURRENCY)

if __name__ == "__main__":
    try:
        BACKEND.start()  # the models and the start-up forecast, before the first visitor
    except CheckpointError as error:
        raise SystemExit(f"The app can't start: {error}") from None
    # SIGTERM (a container or a Space stopping) as a normal exit, so that the atexit clean-up runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    demo.launch(max_file_size=limits.MAX_FILE_BYTES, allowed_paths=[str(requests.EXAMPLES)],
                css=(PAGE / "page.css").read_text(), mcp_server=MCP)

