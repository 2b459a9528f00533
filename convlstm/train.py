"""`python -m convlstm.train` runs `convlstm.commands.train`: the command's short name."""

from .commands.train import main

if __name__ == "__main__":
    main()
