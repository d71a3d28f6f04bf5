"""Pose estimation from video frames: the interface (`base`), MediaPipe BlazePose (`blazepose`),
extraction of whole videos (`extract`) and the on-disk keypoint cache (`cache`)."""
