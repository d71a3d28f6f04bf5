"""What the torchrun tests launch in each process: the train command, recording the history each rank's
train() returned (into $HISTORY_DIR/rank<R>.json), and, with $STOP_BEFORE_EPOCH, dying as if killed
once the epochs before it are written."""
import json
import os
import sys
from pathlib import Path

from helpers import train as command
from helpers.cli import run_command
from helpers.transforms.clips import ClipDataset


def main() -> int:
    histories = []
    train = command.train

    def recording(*args, **kwargs):
        histories.append(train(*args, **kwargs))
        return histories[-1]

    command.train = recording
    stop = int(os.environ.get("STOP_BEFORE_EPOCH", 0))
    set_epoch = ClipDataset.set_epoch

    def interrupted(self, epoch):
        if epoch == stop:
            raise SystemExit(f"rank {os.environ['RANK']}: stopped before epoch {epoch}")
        set_epoch(self, epoch)

    ClipDataset.set_epoch = interrupted
    code = run_command(command.main, sys.argv[1:])
    if histories:
        Path(os.environ["HISTORY_DIR"], f"rank{os.environ['RANK']}.json").write_text(json.dumps(histories[-1]))
    return code


if __name__ == "__main__":
    sys.exit(main())
