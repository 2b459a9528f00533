"""`python -m convlstm.realradar` runs `convlstm.commands.real_radar`: the command's short name."""

from .commands.real_radar import main

if __name__ == "__main__":
    main()
