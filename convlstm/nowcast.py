"""`python -m convlstm.nowcast` runs `convlstm.commands.radar_eval`: the command's short name."""

from .commands.radar_eval import main

if __name__ == "__main__":
    main()
