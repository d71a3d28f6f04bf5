"""From a clip to model input: preprocessing, frame sampling, augmentation, input streams, ClipDataset."""
