import subprocess
import sys

from helpers.paths import PROJECT_ROOT
from helpers.transforms.inputs import evaluation_views


def test_evaluation_views_pair_each_sampled_view_with_its_mirror():
    assert evaluation_views(1) == [(0, 1, False)]
    assert evaluation_views(0) == [(0, 1, False)]  # at least one view
    assert evaluation_views(2, flip=True) == [(0, 2, False), (0, 2, True), (1, 2, False), (1, 2, True)]


def test_clip_inputs_need_no_torch():
    code = "import sys, helpers.transforms.inputs; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
