"""Models: the table of model families (registry), the LSTMs, ST-GCN and the DD-Net style network."""
