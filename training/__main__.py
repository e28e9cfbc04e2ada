"""`python -m livesep.training` / `torchrun -m livesep.training`: the training entry point."""

import sys

from livesep.training.cli_train import main

if __name__ == "__main__":
    sys.exit(main())
