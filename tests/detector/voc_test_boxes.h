// Ground truth and detections in one line each, for the VOC metric's and the error analysis's tests.
#pragma once
#include "detector/voc_metric.h"

inline focal::detector::GroundTruth gt(float x1, float y1, float x2, float y2, int label = 0, bool difficult = false) {
    return {{x1, y1, x2, y2}, label, difficult};
}

inline focal::detector::Detection det(float x1, float y1, float x2, float y2, float score, int label = 0) {
    return {{x1, y1, x2, y2}, label, score};
}
