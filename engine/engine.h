// Everything a user of the engine needs: tensors, ops, autograd, threads, random numbers.
#pragma once
#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/device.h"
#include "engine/error.h"
#include "engine/lr_schedule.h"
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/optim.h"
#include "engine/parallel.h"
#include "engine/random.h"
#include "engine/serialize.h"
#include "engine/tensor.h"
