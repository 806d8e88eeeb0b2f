#include "engine/shape.h"

#include <algorithm>
#include <sstream>

#include "engine/error.h"

namespace focal {

const char* dtype_name(DType dtype) { return dtype == DType::F32 ? "float32" : "int32"; }
const char* device_name(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

int64_t numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
}

Strides contiguous_strides(const Shape& shape) {
    Strides strides(shape.size());
    int64_t step = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = step;
        step *= std::max<int64_t>(shape[i], 1);
    }
    return strides;
}

std::string shape_str(const Shape& shape) {
    std::ostringstream out;
    out << "(";
    for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << (shape.size() == 1 ? ",)" : ")");
    return out.str();
}

int64_t wrap_dim(int64_t dim, int64_t rank, const char* op) {
    int64_t wrapped = dim < 0 ? dim + rank : dim;
    FOCAL_CHECK(wrapped >= 0 && wrapped < std::max<int64_t>(rank, 1), "[", op, "] dim ", dim,
                " is out of range for a tensor of rank ", rank);
    return wrapped;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
    size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        FOCAL_CHECK(da == db || da == 1 || db == 1, "[", op, "] shapes ", shape_str(a), " and ", shape_str(b),
                    " do not broadcast");
        out[i] = da == 1 ? db : da;
    }
    return out;
}

}  // namespace focal
