from helpers.config import Config, save_config
from helpers.training.run_folder import finish_run, finished_config, start_run


def test_a_folder_is_finished_only_with_run_json_matching_its_config(tmp_path):
    config = Config()
    save_config(config, tmp_path / "config.yaml")
    assert finished_config(tmp_path) is None                       # no run.json
    finish_run(tmp_path, {"epochs": 30})
    assert finished_config(tmp_path) == config
    config.train.lr = 0.5
    save_config(config, tmp_path / "config.yaml")                  # a later run's config beside the marker
    assert finished_config(tmp_path) is None
    (tmp_path / "val_probabilities.npz").write_bytes(b"old scores")
    start_run(tmp_path)                                            # what a starting run does first
    assert not (tmp_path / "run.json").exists() and not (tmp_path / "val_probabilities.npz").exists()
