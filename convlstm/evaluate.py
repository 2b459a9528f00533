"""`python -m convlstm.evaluate` runs `convlstm.commands.evaluate`: the command's short name."""

from .commands.evaluate import main

if __name__ == "__main__":
    main()
