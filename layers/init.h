// Weight initialisers, in place, from an explicit seeded generator (He et al. 2015 for Kaiming).
#pragma once
#include "engine/engine.h"

namespace focal::init {

// fan_in of a weight: in_features for linear (out, in), C*kh*kw for conv (O, C, kh, kw).
int64_t fan_in(const Tensor& weight);

void normal_(Tensor& t, Generator& gen, float mean = 0.0f, float std = 1.0f);
void uniform_(Tensor& t, Generator& gen, float lo, float hi);
void constant_(Tensor& t, float value);
// Kaiming for ReLU networks: std = sqrt(2 / fan_in) (normal), bound = sqrt(6 / fan_in) (uniform).
void kaiming_normal_(Tensor& t, Generator& gen);
void kaiming_uniform_(Tensor& t, Generator& gen);

}  // namespace focal::init
