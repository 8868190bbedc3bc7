"""The aten ops a GPU kernel (Triton or CUDA C++) may implement inside one subgraph.

Left out on purpose: random ops (a kernel cannot reproduce eager's random stream), ops that take
integer index tensors (embedding, gather, index: their inputs have a domain that random test
inputs would violate), in-place ops (graphs are functionalized, so they should not appear), and
ops whose output shape depends on the data.
"""
from __future__ import annotations

import torch

aten = torch.ops.aten

POINTWISE = {
    aten.add.Tensor, aten.add.Scalar, aten.sub.Tensor, aten.sub.Scalar, aten.mul.Tensor,
    aten.mul.Scalar, aten.div.Tensor, aten.div.Scalar, aten.neg.default, aten.abs.default,
    aten.relu.default, aten.gelu.default, aten.sigmoid.default, aten.tanh.default, aten.exp.default,
    aten.log.default, aten.sqrt.default, aten.rsqrt.default, aten.pow.Tensor_Scalar,
    aten.pow.Tensor_Tensor, aten.maximum.default, aten.minimum.default, aten.where.self,
    aten.clamp.default, aten.clamp_min.default, aten.clamp_max.default, aten.erf.default,
    aten.sin.default, aten.cos.default, aten.silu.default, aten.reciprocal.default,
    aten.hardtanh.default, aten.leaky_relu.default, aten.elu.default, aten.softplus.default,
    aten.log1p.default, aten.expm1.default, aten.sign.default, aten.le.Scalar, aten.lt.Scalar,
    aten.ge.Scalar, aten.gt.Scalar, aten.eq.Scalar, aten.ne.Scalar, aten.le.Tensor,
    aten.lt.Tensor, aten.gt.Tensor, aten.ge.Tensor, aten.scalar_tensor.default, aten.full.default,
    aten.threshold_backward.default, aten.gelu_backward.default, aten.sigmoid_backward.default,
    aten.tanh_backward.default, aten.silu_backward.default, aten.fill.Scalar,
    aten.zeros_like.default, aten.ones_like.default, aten.full_like.default, aten.copy.default,
    aten.cat.default, aten.constant_pad_nd.default, aten.hardswish.default, aten.hardsigmoid.default,
    aten.mish.default, aten.logical_not.default, aten.bitwise_not.default,
}
REDUCTIONS = {
    aten.sum.dim_IntList, aten.sum.default, aten.mean.dim, aten.mean.default, aten.amax.default,
    aten.amin.default, aten.max.dim, aten.min.dim, aten.var.correction, aten.var_mean.correction,
    aten.prod.dim_int, aten.argmax.default, aten.argmin.default, aten.any.dim, aten.all.dim,
    aten._softmax.default, aten._log_softmax.default, aten._softmax_backward_data.default,
    aten._log_softmax_backward_data.default, aten.native_layer_norm.default,
    aten.native_layer_norm_backward.default, aten._native_batch_norm_legit_no_training.default,
    aten._native_batch_norm_legit_functional.default, aten.native_batch_norm_backward.default,
    aten.native_group_norm.default, aten.logsumexp.default, aten.cumsum.default,
}
MATMUL = {
    aten.mm.default, aten.addmm.default, aten.bmm.default, aten.baddbmm.default,
    aten.convolution.default, aten.convolution_backward.default,
    aten.max_pool2d_with_indices.default, aten.avg_pool2d.default,
    aten.max_pool2d_with_indices_backward.default, aten.avg_pool2d_backward.default,
    aten._adaptive_avg_pool2d.default, aten._adaptive_avg_pool2d_backward.default,
    aten._scaled_dot_product_flash_attention.default,
    aten._scaled_dot_product_efficient_attention.default,
}

GPU_OPS = frozenset(op for op in POINTWISE | REDUCTIONS | MATMUL)
