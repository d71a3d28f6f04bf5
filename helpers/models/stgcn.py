"""ST-GCN / ST-GCN++ style spatial-temporal graph convolution network for any skeleton layout.

The graph comes from `helpers.models.graph.spatial_partition(layout)` (3 subsets: self,
inward, outward) and is one registered buffer of the model, passed to every block
(as in st-gcn); each graph convolution may add a learnable offset to it (as
ST-GCN++ / 2s-AGCN do).  Persons are processed as separate samples and their
features are averaged before the classifier.

Shapes: N batch, M persons, C channels, T frames, V joints, K graph subsets.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers.models.graph import spatial_partition
from helpers.data.layouts import Layout

# (out_channels, temporal_stride) per block: a small ST-GCN (ST-GCN has 64..256 and 10 blocks);
# about 0.19 M parameters with 8 input channels, sized for small data sets such as JHMDB on a CPU.
DEFAULT_STAGES: tuple[tuple[int, int], ...] = ((32, 1), (32, 1), (32, 1), (64, 2), (64, 1), (64, 1))


class DataBatchNorm(nn.Module):
    """ST-GCN's input batch norm with one statistic per (person slot, joint, channel).

    forward: x (N, M, T, V, C) -> same shape, normalised as (N, M*V*C, T) with
    `max_persons * V * C` statistics; inputs with fewer persons (M < max_persons)
    use the first M slots' statistics.
    """

    def __init__(self, max_persons: int, num_joints: int, channels: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(max_persons * num_joints * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, m, t, v, c = x.shape  # (N, M, T, V, C)
        size = m * v * c
        if size > self.bn.num_features:
            raise ValueError(f"{m} persons given, data batch norm was built for fewer")
        x = x.permute(0, 1, 3, 4, 2).reshape(n, size, t)  # (N, M*V*C, T)
        bn = self.bn
        x = F.batch_norm(
            x,
            bn.running_mean[:size],  # views: the running statistics update in place
            bn.running_var[:size],
            bn.weight[:size],
            bn.bias[:size],
            self.training,
            bn.momentum,
            bn.eps,
        )
        return x.reshape(n, m, v, c, t).permute(0, 1, 4, 2, 3)  # (N, M, T, V, C)


class Dropout(nn.Dropout):
    """`nn.Dropout` with a cheaper mask on CPU: each 64-bit draw of torch's generator gives the keep/drop
    decisions of four elements (its four 16-bit parts, each uniform), where `bernoulli_` makes one draw
    and `rand` one float per element; six dropouts were a fifth of an ST-GCN training step.  Elements are
    kept with probability 1 - p rounded to a multiple of 1/65536, and divided by 1 - p as in `nn.Dropout`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p >= 1:
            return torch.zeros_like(x)
        threshold = round(self.p * 65536) - 32768          # keep where a uniform int16 >= threshold
        draws = torch.empty((x.numel() + 3) // 4, dtype=torch.int64, device=x.device)
        parts = draws.random_(-2**63, 2**63 - 1).view(torch.int16)[:x.numel()].view(x.shape)
        return x * (parts >= threshold) * (1.0 / (1.0 - self.p))


class GraphConv(nn.Module):
    """Spatial graph convolution: (N, C_in, T, V) and adjacency (K, V, V) -> (N, C_out, T, V).

    One 1x1 convolution per graph subset, summed over the subsets' adjacency
    `A + offset` (`offset` learnable, starting at zero, when `adaptive`):
    `y[c, t, w] = sum_k sum_v (W_k x + b_k)[c, t, v] (A_k + offset_k)[v, w]`.
    Both orders of the two products give the same result; the cheaper one runs.
    """

    def __init__(self, in_channels: int, out_channels: int, num_subsets: int, num_joints: int,
                 adaptive: bool = True):
        super().__init__()
        self.num_subsets, self.out_channels = num_subsets, out_channels
        self.offset = nn.Parameter(torch.zeros(num_subsets, num_joints, num_joints)) if adaptive else None
        self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, 1)
        self.bn = nn.BatchNorm2d(out_channels)
        if in_channels == out_channels:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        n, c_in, t, v = x.shape  # (N, C_in, T, V)
        k, c_out = self.num_subsets, self.out_channels
        a = adjacency if self.offset is None else adjacency + self.offset  # (K, V, W)
        if c_in < c_out:
            # graph first, on the narrower input: one (N*C_in*T, V) x (V, K*W) product, then one
            # 1x1 convolution over (K, C_in), the same weights viewed (C_out, K*C_in)
            u = torch.matmul(x, a.permute(1, 0, 2).reshape(v, k * v))  # (N, C_in, T, K*W)
            u = u.view(n, c_in, t, k, v).permute(0, 3, 1, 2, 4).reshape(n, k * c_in, t, v)  # (N, K*C_in, T, W)
            weight = self.conv.weight.view(k, c_out, c_in).transpose(0, 1).reshape(c_out, k * c_in, 1, 1)
            bias = self.conv.bias.view(k, c_out).t() @ a.sum(dim=1)  # (C_out, W): b_k through A_k's columns
            y = F.conv2d(u, weight) + bias[:, None, :]  # (N, C_out, T, W)
        else:
            # convolution first, then one (N*C_out*T, K*V) x (K*V, W) product
            y = self.conv(x).view(n, k, c_out, t, v).permute(0, 2, 3, 1, 4).reshape(n * c_out * t, k * v)
            y = (y @ a.reshape(k * v, v)).view(n, c_out, t, v)  # (N, C_out, T, W)
        return F.relu(self.bn(y) + self.residual(x))


class TemporalConv(nn.Module):
    """Temporal convolution over frames, per joint: (N, C, T, V) -> (N, C, T / stride, V)."""

    def __init__(self, channels: int, kernel_size: int = 9, stride: int = 1, dropout: float = 0.0):
        super().__init__()
        pad = (kernel_size - 1) // 2
        self.conv = nn.Conv2d(channels, channels, (kernel_size, 1), (stride, 1), (pad, 0))
        self.bn = nn.BatchNorm2d(channels)
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.bn(self.conv(x)))


class MultiScaleTemporalConv(nn.Module):
    """ST-GCN++ style multi-scale temporal convolution: (N, C, T, V) -> (N, C, T / stride, V).

    Parallel branches, each a 1x1 bottleneck to about C / (len(dilations) + 2) channels:
    a kernel-3 temporal convolution per dilation (receptive fields 3, 5, 7, 9 for
    dilations 1..4), a kernel-3 max pool and a plain 1x1 branch.  Their outputs are
    concatenated back to C channels and mixed by a 1x1 convolution.  About a fifth of
    the multiply-adds of one kernel-9 convolution at the same width.
    """

    def __init__(self, channels: int, stride: int = 1, dilations: tuple[int, ...] = (1, 2, 3, 4),
                 dropout: float = 0.0):
        super().__init__()
        num_branches = len(dilations) + 2
        widths = [channels // num_branches] * num_branches
        widths[0] += channels - sum(widths)  # the remainder goes to the first branch

        def bottleneck(width: int) -> list[nn.Module]:
            return [nn.Conv2d(channels, width, 1), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]

        branches = []
        for width, dilation in zip(widths, dilations):
            branches.append(nn.Sequential(
                *bottleneck(width),
                nn.Conv2d(width, width, (3, 1), (stride, 1), (dilation, 0), (dilation, 1)),
            ))
        pool_width, point_width = widths[-2], widths[-1]
        branches.append(nn.Sequential(*bottleneck(pool_width), nn.MaxPool2d((3, 1), (stride, 1), (1, 0))))
        branches.append(nn.Conv2d(channels, point_width, 1, (stride, 1)))
        self.branches = nn.ModuleList(branches)
        self.bn = nn.BatchNorm2d(channels)
        self.mix = nn.Sequential(nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels))
        self.drop = Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([branch(x) for branch in self.branches], dim=1)  # (N, C, T', V)
        return self.drop(self.mix(self.bn(y)))


class STGCNBlock(nn.Module):
    """GraphConv then TemporalConv with a block residual:
    (N, C_in, T, V) and adjacency (K, V, V) -> (N, C_out, T / stride, V)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_subsets: int,
        num_joints: int,
        stride: int = 1,
        kernel_size: int = 9,
        dropout: float = 0.0,
        adaptive: bool = True,
        residual: bool = True,
        temporal: str = "single",
    ):
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, num_subsets, num_joints, adaptive)
        if temporal == "single":
            self.tcn = TemporalConv(out_channels, kernel_size, stride, dropout)
        elif temporal == "multiscale":
            self.tcn = MultiScaleTemporalConv(out_channels, stride, dropout=dropout)
        else:
            raise ValueError(f"temporal={temporal!r}: use 'single' (one kernel) or 'multiscale' (ST-GCN++)")
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, (stride, 1)), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x, adjacency))  # (N, C_out, T', V)
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y)


class STGCN(nn.Module):
    """Spatial-temporal GCN classifier for any `Layout`.

    forward: x (N, C, T, V, M) -> logits (N, num_classes); M <= max_persons.

    Args:
        num_classes: number of action classes.
        layout: skeleton layout; it fixes V and the graph.
        in_channels: C, e.g. 2 for (x, y), 8 for four stacked 2D streams.
        stages: (out_channels, temporal_stride) per block.
        max_persons: person slots of the data batch norm.
        kernel_size: temporal kernel of every block.
        dropout: dropout inside blocks (after each temporal conv).
        head_dropout: dropout before the classifier.
        adaptive: learnable additive offset on the adjacency (ST-GCN++ / 2s-AGCN).
        temporal: 'single' (one kernel_size convolution, ST-GCN) or 'multiscale'
            (dilated branches, ST-GCN++; ignores kernel_size).
    """

    def __init__(
        self,
        num_classes: int,
        layout: Layout,
        in_channels: int = 2,
        stages: tuple[tuple[int, int], ...] = DEFAULT_STAGES,
        max_persons: int = 2,
        kernel_size: int = 9,
        dropout: float = 0.0,
        head_dropout: float = 0.0,
        adaptive: bool = True,
        temporal: str = "single",
    ):
        super().__init__()
        self.layout = layout
        adjacency = torch.from_numpy(spatial_partition(layout))  # (K=3, V, V)
        self.register_buffer("adjacency", adjacency)  # stored once, passed to every block
        self.data_bn = DataBatchNorm(max_persons, layout.num_joints, in_channels)
        blocks, channels = [], in_channels
        for i, (out_channels, stride) in enumerate(stages):
            blocks.append(
                STGCNBlock(
                    channels, out_channels, adjacency.shape[0], layout.num_joints, stride, kernel_size, dropout,
                    adaptive,
                    residual=i > 0,  # as ST-GCN: no residual around the first block
                    temporal=temporal,
                )
            )
            channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.head_drop = Dropout(head_dropout)
        self.fc = nn.Linear(channels, num_classes)

    def no_weight_decay(self) -> set[str]:
        """Names of parameters the optimizer must not decay: the learnable adjacency offsets."""
        return {name for name, _ in self.named_parameters() if name.endswith("gcn.offset")}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v, m = x.shape  # (N, C, T, V, M)
        x = self.data_bn(x.permute(0, 4, 2, 3, 1))  # (N, M, T, V, C)
        x = x.permute(0, 1, 4, 2, 3).reshape(n * m, c, t, v)  # (N*M, C, T, V)
        for block in self.blocks:
            x = block(x, self.adjacency)  # (N*M, C', T', V)
        x = x.mean(dim=(2, 3)).view(n, m, -1).mean(dim=1)  # (N, C')
        return self.fc(self.head_drop(x))  # (N, num_classes)
