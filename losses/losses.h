// Everything a user of the loss library needs (see docs/learn/06-adding-a-loss.md):
//   loss.h            the dense-detection contract: ClsLossInput, BoxLossInput, Reduction
//   dense.h           target resolution and reduction helpers; sigmoid_loss() for new losses
//   sigmoid_focal.h   BCE, the sigmoid focal loss, composed and fused
//   focal_variants.h  FL*, QFL, varifocal, Poly-1 focal
//   softmax.h         softmax CE with ignore index, softmax focal
//   ohem.h            online hard example mining
//   box.h             smooth L1, L1, GIoU
//   registry.h        losses by name, with their parameters and defaults
#pragma once
#include "losses/box.h"
#include "losses/dense.h"
#include "losses/focal_variants.h"
#include "losses/loss.h"
#include "losses/ohem.h"
#include "losses/registry.h"
#include "losses/sigmoid_focal.h"
#include "losses/softmax.h"
