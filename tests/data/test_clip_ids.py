from helpers.data.clip_ids import ClipId, group_of, parse_clip_id


def test_ucf_ids_parse_into_class_group_and_clip():
    assert parse_clip_id("v_ApplyEyeMakeup_g08_c01") == ClipId("ApplyEyeMakeup", 8, 1)
    assert parse_clip_id("jump/v_jump_g02_c03") == ClipId(None, 2, 3)      # folder import ids: group only
    assert parse_clip_id("v_Run_Fast_g01_c02") == ClipId(None, 1, 2)       # a name with '_' is not a class name
    assert parse_clip_id("clap_train1_0007") is None and parse_clip_id(7) is None


def test_group_of_parses_ucf_ids():
    assert group_of("v_ApplyEyeMakeup_g08_c01") == "g08"
    assert group_of("v_X_g8_c1") == "g08"
    assert group_of("clip_17") is None


def test_only_the_whole_id_counts():
    assert parse_clip_id("v_Run_g01_c01\n") is None            # $ would match before a trailing newline
    assert parse_clip_id("v_Run_g\u0661_c01") is None          # Arabic-Indic digit: not an id
