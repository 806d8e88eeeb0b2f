#!/usr/bin/env python3
"""Golden numbers for tests/losses/test_golden.cpp, from PyTorch and torchvision.

    /usr/bin/python3 tests/losses/make_golden.py      # Debian's python3-torch 1.13, python3-torchvision 0.14

writes tests/losses/golden_losses.json beside itself: the input tensors once ("tensors"), and the
cases, which name their inputs by index into that list. Inputs are float32 numbers; the references
run in float64 on them, so that they are the true values to float32's precision (even at logits
of +-100, where float32 arithmetic underflows). Each case holds the loss (reduction none: every
element) and the gradient with respect to the first input of sum(loss). A NaN or infinite
reference gradient (torch's pow at (1 - p_t) = 0 for gamma < 1) is written as null: the C++ test
then only requires focal's to be finite.

References: torchvision.ops.sigmoid_focal_loss, torchvision.ops.generalized_box_iou_loss,
F.binary_cross_entropy_with_logits, F.cross_entropy, F.smooth_l1_loss, F.l1_loss; the losses
torch does not ship are written below as their papers' reference code has them (mmdet's
quality_focal_loss_tensor_target and varifocal_loss, PolyLoss's poly1_focal_loss).
"""
import json
import math
import os

import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import generalized_box_iou_loss, sigmoid_focal_loss

SEED = 4
HERE = os.path.dirname(os.path.abspath(__file__))


def f32(values):
    return torch.tensor(values, dtype=torch.float32).double()


def as_list(t):
    out = []
    for v in t.detach().reshape(-1).tolist():
        out.append(v if math.isfinite(v) else None)
    return out


def tensor_json(t):
    return {"shape": list(t.shape), "data": as_list(t)}


# ---------------------------------------------------------------- inputs
def sigmoid_inputs(gen):
    grid = [-100.0, -30.0, -10.0, -3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0, 10.0, 30.0, 100.0]
    rand = (torch.randn(24, generator=gen) * 3).tolist()
    x = f32(grid + grid + rand).reshape(5, 10)
    hard = f32([0.0] * 13 + [1.0] * 13 + (torch.rand(24, generator=gen) < 0.3).float().tolist()).reshape(5, 10)
    soft_t = torch.rand(40, generator=gen)
    soft_t[:5] = 0.0
    soft_t[5:10] = 1.0
    soft = {"logits": f32((torch.randn(40, generator=gen) * 3).tolist()).reshape(4, 10),
            "targets": f32(soft_t.tolist()).reshape(4, 10)}
    return {"hard": {"logits": x, "targets": hard}, "soft": soft}


def softmax_inputs(gen):
    x = f32((torch.randn(12, 5, generator=gen) * 2).tolist())
    x[0] = f32([20.0, -20.0, 0.0, 1.0, -1.0])  # a confident row
    labels = torch.randint(0, 5, (12,), generator=gen)
    labels[3] = -100
    labels[7] = -100
    return x, labels


def box_inputs(gen):
    def boxes(n):
        xy = torch.rand(n, 2, generator=gen) * 40
        wh = torch.rand(n, 2, generator=gen) * 30 + 2
        return f32(torch.cat([xy, xy + wh], 1).tolist())
    pred, target = boxes(10), boxes(10)
    target[0] = pred[0] + f32([1.5, -2.0, 3.0, 0.5])   # overlapping
    target[1] = pred[1] + f32([100.0, 90.0, 100.0, 90.0])  # disjoint
    target[2] = f32([pred[2][0] + 2, pred[2][1] + 2, pred[2][2] - 1, pred[2][3] - 1])  # nested
    return pred, target


# ---------------------------------------------------------------- references
def bce_ref(x, t, alpha, reduction):
    weight = None if alpha < 0 else alpha * t + (1 - alpha) * (1 - t)
    return F.binary_cross_entropy_with_logits(x, t, weight=weight, reduction=reduction)


def fl_star_ref(x, t, gamma, beta, alpha, reduction):
    y = 2 * t - 1  # Lin et al. 2017, appendix A
    loss = -F.logsigmoid(gamma * y * x + beta) / gamma
    if alpha >= 0:
        loss = loss * (alpha * t + (1 - alpha) * (1 - t))
    return reduce(loss, reduction)


def qfl_ref(pred, target, beta, reduction):
    # mmdet/models/losses/gfocal_loss.py, quality_focal_loss_tensor_target (without the final sum)
    pred_sigmoid = pred.sigmoid()
    loss = F.binary_cross_entropy_with_logits(pred, torch.zeros_like(pred), reduction='none') * pred_sigmoid.pow(beta)
    pos = target != 0
    scale = target[pos] - pred_sigmoid[pos]
    loss = loss.clone()
    loss[pos] = F.binary_cross_entropy_with_logits(pred[pos], target[pos], reduction='none') * scale.abs().pow(beta)
    return reduce(loss, reduction)


def varifocal_ref(pred, target, alpha, gamma, reduction):
    # mmdet/models/losses/varifocal_loss.py, varifocal_loss with iou_weighted=True
    pred_sigmoid = pred.sigmoid()
    focal_weight = target * (target > 0.0).double() + \
        alpha * (pred_sigmoid - target).abs().pow(gamma) * (target <= 0.0).double()
    return reduce(F.binary_cross_entropy_with_logits(pred, target, reduction='none') * focal_weight, reduction)


def poly1_ref(logits, labels, epsilon, alpha, gamma, reduction):
    # PolyLoss (Leng et al. 2022), appendix code, poly1_focal_loss, in torch
    p = torch.sigmoid(logits)
    ce_loss = F.binary_cross_entropy_with_logits(logits, labels, reduction='none')
    pt = labels * p + (1 - labels) * (1 - p)
    fl = ce_loss * ((1 - pt) ** gamma)
    if alpha >= 0:
        fl = (alpha * labels + (1 - alpha) * (1 - labels)) * fl
    return reduce(fl + epsilon * torch.pow(1 - pt, gamma + 1), reduction)


def softmax_focal_ref(x, labels, gamma, weight, ignore_index, reduction):
    keep = labels != ignore_index
    index = torch.where(keep, labels, torch.zeros_like(labels))
    logp = F.log_softmax(x, dim=-1).gather(-1, index[:, None]).squeeze(-1)
    w = (weight[index] if weight is not None else torch.ones_like(logp)) * keep.double()
    loss = -w * (1 - logp.exp()) ** gamma * logp
    if reduction == 'mean':
        return loss.sum() / w.sum()
    return reduce(loss, reduction)


def reduce(loss, reduction):
    return {'none': loss, 'sum': loss.sum(), 'mean': loss.mean()}[reduction]


# ---------------------------------------------------------------- cases
TENSORS = []  # every distinct input tensor, written once; cases refer to them by index


def tensor_id(t):
    entry = {"shape": list(t.shape), "dtype": "float32" if t.is_floating_point() else "int32",
             "data": t.reshape(-1).tolist()}
    if entry not in TENSORS:
        TENSORS.append(entry)
    return TENSORS.index(entry)


def case(name, fn, params, reduction, inputs, compute):
    """inputs: name -> float64 tensor (the first gets a gradient) or int tensor."""
    first = next(iter(inputs))
    leaf = inputs[first].clone().requires_grad_(True)
    args = dict(inputs)
    args[first] = leaf
    value = compute(args)
    value.sum().backward()
    return {"name": name, "fn": fn, "params": params, "reduction": reduction,
            "inputs": {k: tensor_id(v) for k, v in inputs.items()},
            "value": tensor_json(value), "grad": as_list(leaf.grad)}


def main():
    gen = torch.Generator().manual_seed(SEED)
    sig = sigmoid_inputs(gen)
    sx, slabels = softmax_inputs(gen)
    pred, target = box_inputs(gen)
    cases = []
    reductions = ['none', 'sum', 'mean']
    for set_name, inp in sig.items():
        for r in reductions:
            for alpha, gamma in [(0.25, 2.0), (-1.0, 0.0), (0.25, 0.0), (0.5, 0.5), (-1.0, 1.0), (0.75, 5.0)]:
                cases.append(case(f"sigmoid_focal {set_name} a={alpha} g={gamma} {r}", "sigmoid_focal",
                                  {"alpha": alpha, "gamma": gamma}, r, inp,
                                  lambda a: sigmoid_focal_loss(a["logits"], a["targets"], alpha=alpha, gamma=gamma,
                                                               reduction=r)))
            for alpha in [-1.0, 0.25]:
                cases.append(case(f"bce {set_name} a={alpha} {r}", "bce", {"alpha": alpha}, r, inp,
                                  lambda a: bce_ref(a["logits"], a["targets"], alpha, r)))
            for gamma, beta, alpha in [(2.0, 1.0, -1.0), (4.0, 0.0, 0.25)]:
                cases.append(case(f"fl_star {set_name} g={gamma} b={beta} a={alpha} {r}", "fl_star",
                                  {"gamma": gamma, "beta": beta, "alpha": alpha}, r, inp,
                                  lambda a: fl_star_ref(a["logits"], a["targets"], gamma, beta, alpha, r)))
            for beta in [2.0, 1.0]:
                cases.append(case(f"qfl {set_name} b={beta} {r}", "qfl", {"beta": beta}, r, inp,
                                  lambda a: qfl_ref(a["logits"], a["targets"], beta, r)))
            cases.append(case(f"varifocal {set_name} {r}", "varifocal", {"alpha": 0.75, "gamma": 2.0}, r, inp,
                              lambda a: varifocal_ref(a["logits"], a["targets"], 0.75, 2.0, r)))
            cases.append(case(f"poly_focal {set_name} {r}", "poly_focal", {"epsilon": 1.0, "alpha": 0.25, "gamma": 2.0},
                              r, inp, lambda a: poly1_ref(a["logits"], a["targets"], 1.0, 0.25, 2.0, r)))

    weight = f32([0.5, 1.0, 2.0, 1.0, 0.25])
    for r in reductions:
        for w_name, w in [("unweighted", None), ("weighted", weight)]:
            params = {"ignore_index": -100.0, "class_weight": None if w is None else w.tolist()}
            inp = {"logits": sx, "labels": slabels.int()}
            cases.append(case(f"ce {w_name} {r}", "ce", params, r, inp,
                              lambda a: F.cross_entropy(a["logits"], a["labels"].long(), weight=w, ignore_index=-100,
                                                        reduction=r)))
            for gamma in [0.0, 2.0, 0.5]:
                cases.append(case(f"softmax_focal {w_name} g={gamma} {r}", "softmax_focal", dict(params, gamma=gamma), r,
                                  inp, lambda a: softmax_focal_ref(a["logits"], a["labels"].long(), gamma, w, -100, r)))
        inp = {"logits": sx, "labels": torch.where(slabels == -100, torch.full_like(slabels, 2), slabels).int()}
        cases.append(case(f"ce ignore_index=2 {r}", "ce", {"ignore_index": 2.0, "class_weight": None}, r, inp,
                          lambda a: F.cross_entropy(a["logits"], a["labels"].long(), ignore_index=2, reduction=r)))
        boxes = {"pred": pred, "target": target}
        for beta in [1.0 / 9.0, 1.0, 0.0]:
            beta32 = float(torch.tensor(beta, dtype=torch.float32))
            cases.append(case(f"smooth_l1 b={beta:.4f} {r}", "smooth_l1", {"beta": beta32}, r, boxes,
                              lambda a: F.smooth_l1_loss(a["pred"], a["target"], beta=beta32, reduction=r)))
        cases.append(case(f"l1 {r}", "l1", {}, r, boxes, lambda a: F.l1_loss(a["pred"], a["target"], reduction=r)))
        cases.append(case(f"giou {r}", "giou", {"eps": 1e-7}, r, boxes,
                          lambda a: generalized_box_iou_loss(a["pred"], a["target"], reduction=r, eps=1e-7)))

    # The detector's contract (losses/loss.h): logits (N, A, K), int labels with -1 background
    # and -2 ignored, a valid mask, sum over counted anchors / max(1, #positives).
    x = f32((torch.randn(2, 6, 3, generator=gen) * 2).tolist())
    labels = torch.tensor([[0, -1, 2, -2, -1, 1], [-1, -1, -2, 2, -1, -1]], dtype=torch.int32)
    valid = f32([[1, 1, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1]])
    counted = valid * (labels != -2).double()
    positives = float(((labels >= 0).double() * counted).sum())
    normalizer = max(1.0, positives)
    one_hot = F.one_hot(labels.clamp(min=0).long(), 3).double() * (labels >= 0).double()[..., None]
    inp = {"logits": x, "labels": labels, "valid": valid}
    cases.append(case("dense focal (N, A, K) labels", "dense_focal", {"alpha": 0.25, "gamma": 2.0, "normalizer": normalizer},
                      "sum", inp, lambda a: (sigmoid_focal_loss(a["logits"], one_hot, reduction='none')
                                             * counted[..., None]).sum() / normalizer))
    xs = f32((torch.randn(2, 6, 4, generator=gen) * 2).tolist())  # K = 3 classes + background last
    softmax_labels = torch.where(labels == -1, torch.full_like(labels, 3), labels).long()
    softmax_labels = torch.where((labels == -2) | (valid == 0), torch.full_like(softmax_labels, -100), softmax_labels)
    inp = {"logits": xs, "labels": labels, "valid": valid}
    cases.append(case("dense ce (N, A, K+1) labels", "dense_ce", {"alpha": -1.0, "normalizer": normalizer}, "sum", inp,
                      lambda a: F.cross_entropy(a["logits"].reshape(-1, 4), softmax_labels.reshape(-1),
                                                ignore_index=-100, reduction='sum') / normalizer))
    deltas, gt_deltas = f32(torch.randn(12, 4, generator=gen).tolist()), f32(torch.randn(12, 4, generator=gen).tolist())
    positive = ((labels >= 0).double() * counted).reshape(12)
    inp = {"pred": deltas, "target": gt_deltas, "weight": positive}
    cases.append(case("dense smooth_l1 over positives", "dense_smooth_l1", {"beta": float(torch.tensor(1 / 9, dtype=torch.float32)), "normalizer": normalizer},
                      "sum", inp, lambda a: (F.smooth_l1_loss(a["pred"], a["target"], beta=float(torch.tensor(1 / 9, dtype=torch.float32)),
                                                              reduction='none').sum(-1) * positive).sum() / normalizer))

    out = {"generator": "tests/losses/make_golden.py", "torch": torch.__version__,
           "torchvision": torchvision.__version__, "seed": SEED, "tensors": TENSORS,
           "cases": cases}
    path = os.path.join(HERE, "golden_losses.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
