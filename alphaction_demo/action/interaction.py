"""Interaction Aggregation (IA) structures: serial, dense serial and parallel, with P/O/M blocks.

The official code copies the "others" (persons, objects, memory) once per person and runs 1x1x1
convolutions on [n, slots, C, 1, 1, 1] tensors. Every person sees the same others, so here the
keys and values are computed once for all persons and attention is two matrix products, which
gives the same numbers at a fraction of the cost. Parameter names and shapes match the official
checkpoints. Padding follows the official semantics exactly: empty slots are zeros that take
part in every softmax (no mask) — person slots are padded after the key's dimension-reducing
convolution, object and memory slots before it.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from alphaction_demo.action.config import Config


def flat_blocks(block_list: Sequence) -> List[str]:
    if block_list and isinstance(block_list[0], (list, tuple)):
        return [b for layer in block_list for b in layer]
    return list(block_list)


def has_person(ia: Config) -> bool:
    return bool(ia.ACTIVE and "P" in flat_blocks(ia.I_BLOCK_LIST) and ia.MAX_PERSON > 0)


def has_object(ia: Config) -> bool:
    return bool(ia.ACTIVE and "O" in flat_blocks(ia.I_BLOCK_LIST) and ia.MAX_OBJECT > 0)


def has_memory(ia: Config) -> bool:
    return bool(ia.ACTIVE and "M" in flat_blocks(ia.I_BLOCK_LIST) and ia.MAX_PER_SEC > 0)


class Conv1x1(nn.Conv3d):
    """A 1x1x1 convolution applied to [*, C] vectors (the official IA tensors are [*, C, 1, 1, 1])."""

    def __init__(self, dim_in: int, dim_out: int, bias: bool) -> None:
        super().__init__(dim_in, dim_out, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return F.linear(x, self.weight.view(self.out_channels, self.in_channels), self.bias)


class InteractionBlock(nn.Module):
    """Attention of each person (query) over a fixed set of slots (persons, objects or memory)."""

    def __init__(self, dim_person: int, dim_other: int, dim_out: int, dim_inner: int, num_slots: int,
                 bias: bool, layer_norm: bool, temp_pos_len: int = -1) -> None:
        super().__init__()
        self.dim_inner = dim_inner
        self.num_slots = num_slots
        self.scale_value = dim_inner ** (-0.5)
        self.temp_pos_len = temp_pos_len
        self.layer_norm = layer_norm
        self.query = Conv1x1(dim_person, dim_inner, bias)
        self.key = Conv1x1(dim_other, dim_inner, bias)
        self.value = Conv1x1(dim_other, dim_inner, bias)
        self.out = Conv1x1(dim_inner, dim_out, bias)
        self.shortcut = Conv1x1(dim_person, dim_out, bias) if dim_person != dim_out else None
        if temp_pos_len > 0:
            self.temporal_position_k = nn.Parameter(torch.zeros(temp_pos_len, 1, dim_inner, 1, 1, 1))
            self.temporal_position_v = nn.Parameter(torch.zeros(temp_pos_len, 1, dim_inner, 1, 1, 1))

    def forward(self, person: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
        """person [n, C], others [num_slots, C'] shared by every person -> [n, dim_out]."""
        query = self.query(person)
        key = self.key(others)
        value = self.value(others)
        if self.temp_pos_len > 0:
            per_step = self.num_slots // self.temp_pos_len
            shape = (self.temp_pos_len, per_step, self.dim_inner)
            key = (key.view(shape) + self.temporal_position_k.view(self.temp_pos_len, 1, -1)).reshape(-1, self.dim_inner)
            value = (value.view(shape) + self.temporal_position_v.view(self.temp_pos_len, 1, -1)).reshape(-1, self.dim_inner)
        weight = torch.softmax((query @ key.t()) * self.scale_value, dim=1)
        out = weight @ value
        if self.layer_norm:  # the official LayerNorm over [C, 1, 1, 1] without learnable parameters
            out = F.layer_norm(out, (self.dim_inner,))
        out = self.out(F.relu(out))
        return out + (person if self.shortcut is None else self.shortcut(person))


def _pad_rows(rows: torch.Tensor, size: int) -> torch.Tensor:
    """rows [k, C] -> [size, C] with zero rows after them (k <= size)."""
    if rows.shape[0] == size:
        return rows
    return torch.cat([rows, rows.new_zeros(size - rows.shape[0], rows.shape[1])], dim=0)


def sample_rows(rows: torch.Tensor, max_rows: int, rng: Optional[torch.Generator] = None) -> torch.Tensor:
    """At most `max_rows` rows, drawn at random when there are more (the official sampling, which
    uses the global generator; `rng`, a CPU generator, makes the draw repeatable)."""
    if rows.shape[0] > max_rows:
        return rows[torch.randperm(rows.shape[0], generator=rng)[:max_rows].to(rows.device)]
    return rows


class IAStructure(nn.Module):
    """Base: the dimension-reducing convolutions and the block factory; subclasses aggregate."""

    def __init__(self, dim_person: int, dim_mem: int, dim_out: int, ia: Config) -> None:
        super().__init__()
        self.dim_inner = ia.DIM_INNER
        self.max_person = ia.MAX_PERSON
        self.max_object = ia.MAX_OBJECT
        self.mem_len = ia.LENGTH[0] + ia.LENGTH[1] + 1
        self.mem_feature_len = self.mem_len * ia.MAX_PER_SEC
        self.block_list = ia.I_BLOCK_LIST
        self.has_P, self.has_O, self.has_M = has_person(ia), has_object(ia), has_memory(ia)
        self._bias = not ia.NO_BIAS
        self._layer_norm = bool(ia.LAYER_NORM)
        self._temporal_position = bool(ia.TEMPORAL_POSITION)
        self.person_dim_reduce = Conv1x1(dim_person, self.dim_inner, self._bias)
        if self.has_M:
            self.mem_dim_reduce = Conv1x1(dim_mem, self.dim_inner, self._bias)
        if self.has_P:
            self.person_key_dim_reduce = Conv1x1(dim_person, self.dim_inner, self._bias)
        if self.has_O:
            self.object_dim_reduce = Conv1x1(dim_person, self.dim_inner, self._bias)

    def _make_block(self, block_type: str, name: str, dim_out: int) -> None:
        slots = {"P": self.max_person, "O": self.max_object, "M": self.mem_feature_len}
        if block_type not in slots:
            raise KeyError(f"unrecognised interaction block type {block_type!r}")
        temp_pos = self.mem_len if block_type == "M" and self._temporal_position else -1
        self.add_module(name, InteractionBlock(self.dim_inner, self.dim_inner, dim_out, self.dim_inner,
                                               slots[block_type], self._bias, self._layer_norm, temp_pos))

    def forward(self, person: torch.Tensor, objects: Optional[torch.Tensor], memory: Optional[torch.Tensor],
                rng: Optional[torch.Generator] = None) -> torch.Tensor:
        """person [n, C]; objects [m, C] (unpadded) or None; memory [mem_feature_len, C] (padded);
        `rng` draws the persons and objects kept when there are more than the slots."""
        query = self.person_dim_reduce(person)
        person_key = self.person_key_dim_reduce(person) if self.has_P else None
        object_key = None
        if self.has_O:
            objects = sample_rows(objects if objects is not None else person.new_zeros(0, person.shape[1]),
                                  self.max_object, rng)
            object_key = self.object_dim_reduce(_pad_rows(objects, self.max_object))
        mem_key = self.mem_dim_reduce(memory) if self.has_M else None
        return self._aggregate(query, person_key, object_key, mem_key, rng)

    def _person_slots(self, person_key: torch.Tensor, rng: Optional[torch.Generator]) -> torch.Tensor:
        return _pad_rows(sample_rows(person_key, self.max_person, rng), self.max_person)

    def _run_block(self, block_type: str, block: InteractionBlock, query: torch.Tensor,
                   person_key: Optional[torch.Tensor], object_key: Optional[torch.Tensor],
                   mem_key: Optional[torch.Tensor], rng: Optional[torch.Generator]) -> torch.Tensor:
        if block_type == "P":
            return block(query, self._person_slots(person_key, rng))
        return block(query, object_key if block_type == "O" else mem_key)

    def _aggregate(self, query, person_key, object_key, mem_key, rng) -> torch.Tensor:
        raise NotImplementedError


def _block_names(block_types: Sequence[str], counts: Dict[str, int]) -> List[str]:
    names = []
    for block_type in block_types:
        counts[block_type] = counts.get(block_type, 0) + 1
        names.append(f"{block_type}_block_{counts[block_type]}")
    return names


class SerialIAStructure(IAStructure):
    def __init__(self, dim_person: int, dim_mem: int, dim_out: int, ia: Config) -> None:
        super().__init__(dim_person, dim_mem, dim_out, ia)
        self.names = _block_names(self.block_list, {})
        for idx, (block_type, name) in enumerate(zip(self.block_list, self.names)):
            self._make_block(block_type, name, dim_out if idx == len(self.block_list) - 1 else self.dim_inner)

    def _aggregate(self, query, person_key, object_key, mem_key, rng) -> torch.Tensor:
        for block_type, name in zip(self.block_list, self.names):
            query = self._run_block(block_type, getattr(self, name), query, person_key, object_key, mem_key, rng)
            person_key = query
        return query


class DenseSerialIAStructure(SerialIAStructure):
    """Serial blocks whose inputs, from the third on, are learned mixtures of all earlier outputs."""

    def __init__(self, dim_person: int, dim_mem: int, dim_out: int, ia: Config) -> None:
        super().__init__(dim_person, dim_mem, dim_out, ia)
        self.dense_params = nn.ParameterDict()
        for idx in range(2, len(self.block_list)):
            init = torch.full((idx, self.dim_inner, 1, 1, 1), -5 * math.log(10), dtype=torch.float32)
            init[idx - 1] = 0
            self.dense_params[str(idx)] = nn.Parameter(init)

    def _aggregate(self, query, person_key, object_key, mem_key, rng) -> torch.Tensor:
        history: List[torch.Tensor] = []
        for idx, (block_type, name) in enumerate(zip(self.block_list, self.names)):
            if idx >= 2:
                mix = torch.softmax(self.dense_params[str(idx)], dim=0).view(idx, 1, self.dim_inner)
                query = (torch.stack(history, dim=0) * mix).sum(dim=0)
                person_key = query
            query = self._run_block(block_type, getattr(self, name), query, person_key, object_key, mem_key, rng)
            person_key = query
            history.append(query)
        return query


class ParallelIAStructure(IAStructure):
    """Layers of P/O/M blocks side by side; the last layer's outputs are summed."""

    def __init__(self, dim_person: int, dim_mem: int, dim_out: int, ia: Config) -> None:
        super().__init__(dim_person, dim_mem, dim_out, ia)
        counts: Dict[str, int] = {}
        self.layer_names = []
        for layer_idx, layer in enumerate(self.block_list):
            names = _block_names(layer, counts)
            self.layer_names.append(names)
            dim = dim_out if layer_idx == len(self.block_list) - 1 else self.dim_inner
            for block_type, name in zip(layer, names):
                self._make_block(block_type, name, dim)

    def _aggregate(self, query, person_key, object_key, mem_key, rng) -> torch.Tensor:
        last = [query] * len(self.block_list[0])
        for layer, names in zip(self.block_list, self.layer_names):
            new = []
            for idx, (block_type, name) in enumerate(zip(layer, names)):
                out = self._run_block(block_type, getattr(self, name), last[idx], person_key, object_key, mem_key, rng)
                if block_type == "P":
                    person_key = out
                new.append(out)
            last = new
        return torch.stack(last).sum(dim=0)


STRUCTURES = {"serial": SerialIAStructure, "dense": DenseSerialIAStructure, "parallel": ParallelIAStructure}


def build_ia_structure(cfg: Config, dim_in: int) -> IAStructure:
    ia = cfg.MODEL.IA_STRUCTURE
    return STRUCTURES[ia.STRUCTURE](dim_in, ia.DIM_IN, ia.DIM_OUT, ia)
