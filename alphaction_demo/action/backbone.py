"""The SlowFast ResNet-50 (4x16) and ResNet-101 (8x8) backbones of AlphAction.

Module names and shapes follow the official code exactly (`slow.res_nl1.res_0.btnk.conv1.conv`,
`fast.Tconv1.conv`, ...) because official checkpoints are loaded by key. Batch norm is frozen, so
at load time it can be folded into the preceding convolution (`fold_batch_norm`), which removes a
full pass over every activation tensor on the CPU.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from alphaction_demo.action.config import Config

BLOCKS = {"Slowfast-Resnet50": (3, 4, 6, 3), "Slowfast-Resnet101": (3, 4, 23, 3)}


class FrozenBatchNorm3d(nn.Module):
    """Batch norm with fixed statistics, stored as buffers (the official checkpoint format)."""

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def scale_and_shift(self) -> Tuple[torch.Tensor, torch.Tensor]:
        scale = self.weight / (self.running_var + self.eps).sqrt()
        return scale, self.bias - self.running_mean * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale, shift = self.scale_and_shift()
        shape = (1, -1, 1, 1, 1)
        return x * scale.view(shape) + shift.view(shape)


class _FoldableConvBN(nn.Module):
    """A convolution followed by frozen batch norm that can be merged into one convolution."""

    conv: nn.Conv3d
    bn: FrozenBatchNorm3d

    def _init_fold_state(self) -> None:
        self.folded = False
        self.register_buffer("fused_bias", None, persistent=False)

    def fold(self) -> None:
        """Merge the batch norm into the convolution's weights; afterwards the BN is skipped."""
        if self.folded:
            return
        conv, bn = self._conv_bn()
        scale, shift = bn.scale_and_shift()
        with torch.no_grad():
            conv.weight.mul_(scale.view(-1, 1, 1, 1, 1))
        self.fused_bias = shift.detach().clone()
        self.folded = True

    def _conv_bn(self) -> Tuple[nn.Conv3d, FrozenBatchNorm3d]:
        return self.conv, self.bn

    def _apply_conv_bn(self, x: torch.Tensor) -> torch.Tensor:
        conv, bn = self._conv_bn()
        if not self.folded:
            return bn(conv(x))
        if x.device.type == "cpu" and torch.backends.mkldnn.is_available():
            # PyTorch's heuristic sends small-batch (1, 3, 3) convolutions to its slow native kernel;
            # oneDNN is 3-10x faster for them on the CPU, with the same results to fp32 rounding.
            return torch.ops.aten.mkldnn_convolution(x, conv.weight, self.fused_bias, list(conv.padding),
                                                     list(conv.stride), list(conv.dilation), 1)
        return F.conv3d(x, conv.weight, self.fused_bias, conv.stride, conv.padding, conv.dilation)


class Conv3dBN(_FoldableConvBN):
    def __init__(self, dim_in: int, dim_out: int, kernel: Sequence[int], stride: Sequence[int],
                 padding, dilation=1, eps: float = 1e-5) -> None:
        super().__init__()
        self.conv = nn.Conv3d(dim_in, dim_out, tuple(kernel), stride=tuple(stride), padding=padding,
                              dilation=dilation, bias=False)
        self.bn = FrozenBatchNorm3d(dim_out, eps)
        self._init_fold_state()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply_conv_bn(x)


class Bottleneck(nn.Module):
    def __init__(self, dim_in: int, dim_out: int, dim_inner: int, stride: int, dilation: int,
                 temp_conv: int, temp_stride: int, eps: float) -> None:
        super().__init__()
        self.conv1 = Conv3dBN(dim_in, dim_inner, (1 + temp_conv * 2, 1, 1), (temp_stride, 1, 1),
                              (temp_conv, 0, 0), eps=eps)
        self.conv2 = Conv3dBN(dim_inner, dim_inner, (1, 3, 3), (1, stride, stride), (0, dilation, dilation),
                              dilation=(1, dilation, dilation), eps=eps)
        self.conv3 = Conv3dBN(dim_inner, dim_out, (1, 1, 1), (1, 1, 1), 0, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x), inplace=True)
        x = F.relu(self.conv2(x), inplace=True)
        return self.conv3(x)


class ResBlock(nn.Module):
    def __init__(self, dim_in: int, dim_out: int, dim_inner: int, stride: int, dilation: int,
                 temp_conv: int, temp_stride: int, need_shortcut: bool, eps: float) -> None:
        super().__init__()
        self.btnk = Bottleneck(dim_in, dim_out, dim_inner, stride, dilation, temp_conv, temp_stride, eps)
        self.shortcut = (
            Conv3dBN(dim_in, dim_out, (1, 1, 1), (temp_stride, stride, stride), 0, eps=eps) if need_shortcut else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return F.relu(self.btnk(x) + shortcut, inplace=True)


class ResStage(nn.Module):
    """`res_nl{k}` of the official code: a stack of residual blocks named `res_0`, `res_1`, ..."""

    def __init__(self, dim_in: int, dim_out: int, stride: int, num_blocks: int, dim_inner: int,
                 temp_convs: Sequence[int], dilation: int, lateral_dim: int, eps: float) -> None:
        super().__init__()
        for idx in range(num_blocks):
            block_in = dim_in + lateral_dim if idx == 0 else dim_out
            block_stride = stride if idx == 0 else 1
            # The official rule, including the shortcut res5_0 keeps from its stride-2 pretraining.
            need_shortcut = not (block_in == dim_out and block_stride == 1) or (idx == 0 and dilation != 1)
            self.add_module(f"res_{idx}", ResBlock(block_in, dim_out, dim_inner, block_stride, dilation,
                                                  temp_convs[idx], 1, need_shortcut, eps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.children():
            x = block(x)
        return x


class LateralBlock(nn.Module):
    """Time-strided 5x1x1 convolution from the fast to the slow pathway."""

    def __init__(self, dim: int, alpha: int) -> None:
        super().__init__()
        self.conv = nn.Conv3d(dim, dim * 2, (5, 1, 1), stride=(alpha, 1, 1), padding=(2, 0, 0), bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Always at the weights' precision (fp32): oneDNN's bf16 kernel for this time-strided shape
        # returns NaN or crashes on some CPUs, and the layer is too small for bf16 to save anything.
        with torch.autocast(x.device.type, enabled=False):
            return self.conv(x.to(self.conv.weight.dtype)).to(x.dtype)


class Pathway(_FoldableConvBN):
    """One pathway: stem (conv1, bn1, max-pool without padding) and four residual stages."""

    def __init__(self, blocks: Sequence[int], dims: Sequence[int], dim_inner: int, stem_temp: int,
                 temp_convs: Sequence[Sequence[int]], lateral_dims: Sequence[int], eps: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(3, dims[0], (1 + stem_temp * 2, 7, 7), stride=(1, 2, 2),
                               padding=(stem_temp, 3, 3), bias=False)
        self.bn1 = FrozenBatchNorm3d(dims[0], eps)
        self._init_fold_state()
        strides, dilations = (1, 2, 2, 1), (1, 1, 1, 2)
        for k in range(4):
            self.add_module(f"res_nl{k + 1}", ResStage(dims[k], dims[k + 1], strides[k], blocks[k],
                                                       dim_inner * 2 ** k, temp_convs[k], dilations[k],
                                                       lateral_dims[k], eps))

    def _conv_bn(self) -> Tuple[nn.Conv3d, FrozenBatchNorm3d]:
        return self.conv1, self.bn1

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self._apply_conv_bn(x), inplace=True)
        return F.max_pool3d(x, (1, 3, 3), stride=(1, 2, 2))

    def stages(self) -> List[ResStage]:
        return [self.res_nl1, self.res_nl2, self.res_nl3, self.res_nl4]


class SlowPath(Pathway):
    def __init__(self, blocks: Sequence[int], beta: float, eps: float) -> None:
        dims = (64, 256, 512, 1024, 2048)
        temp_convs = ([0] * blocks[0], [0] * blocks[1], [1] * blocks[2], [1] * blocks[3])
        lateral = [int(d * beta * 2) for d in dims[:4]]
        super().__init__(blocks, dims, 64, 0, temp_convs, lateral, eps)

    def forward(self, x: torch.Tensor, laterals: Sequence[torch.Tensor]) -> torch.Tensor:
        x = self.stem(x)
        for stage, lateral in zip(self.stages(), laterals):
            x = stage(torch.cat([x, lateral], dim=1))
        return x


class FastPath(Pathway):
    def __init__(self, blocks: Sequence[int], alpha: int, eps: float) -> None:
        dims = (8, 32, 64, 128, 256)
        temp_convs = ([1] * blocks[0], [1] * blocks[1], [1] * blocks[2], [1] * blocks[3])
        super().__init__(blocks, dims, 8, 2, temp_convs, (0, 0, 0, 0), eps)
        for k in range(4):
            self.add_module(f"Tconv{k + 1}", LateralBlock(dims[k], alpha))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        x = self.stem(x)
        laterals = []
        for k, stage in enumerate(self.stages()):
            laterals.append(getattr(self, f"Tconv{k + 1}")(x))
            x = stage(x)
        return x, laterals


class SlowFast(nn.Module):
    """Returns (slow features [B, 2048, T/tau, H/16, W/16], fast features [B, 256, T*alpha/tau, ...])."""

    dim_out = 2048 + 256

    def __init__(self, cfg: Config) -> None:
        super().__init__()
        blocks = BLOCKS[cfg.MODEL.BACKBONE.CONV_BODY]
        eps = cfg.MODEL.BACKBONE.BN_EPSILON
        self.slow = SlowPath(blocks, cfg.MODEL.BACKBONE.SLOWFAST.BETA, eps)
        self.fast = FastPath(blocks, cfg.INPUT.ALPHA, eps)

    def forward(self, slow_x: torch.Tensor, fast_x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        fast_out, laterals = self.fast(fast_x)
        return self.slow(slow_x, laterals), fast_out


def fold_batch_norm(module: nn.Module) -> int:
    """Fold every frozen batch norm under `module` into its convolution; returns how many."""
    count = 0
    for child in module.modules():
        if isinstance(child, _FoldableConvBN) and not child.folded:
            child.fold()
            count += 1
    return count


def to_cpu_fast_layout(backbone: SlowFast, dtype: torch.dtype = torch.float32) -> SlowFast:
    """Channels-last weights (and bf16 ones on request): oneDNN's fast path on the CPU, about 1.4x
    in fp32 and 3x more with bf16 on CPUs with AVX512-BF16/AMX (autocast alone gains little).
    Laterals stay fp32, see LateralBlock."""
    backbone.to(dtype)
    for module in backbone.modules():
        if isinstance(module, LateralBlock):
            module.float()
    return backbone.to(memory_format=torch.channels_last_3d)


def is_folded(module: nn.Module) -> Optional[bool]:
    flags = {m.folded for m in module.modules() if isinstance(m, _FoldableConvBN)}
    return None if not flags else flags == {True}
