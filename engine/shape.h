// Shapes, strides and dtypes: the vocabulary every other engine file speaks.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace focal {

enum class DType : uint8_t { F32, I32 };  // float32 values; int32 indices and labels
enum class Device : uint8_t { CPU, CUDA };

using Shape = std::vector<int64_t>;    // sizes, outermost first
using Strides = std::vector<int64_t>;  // in elements, not bytes

inline size_t dtype_size(DType) { return 4; }  // both dtypes are 32-bit
const char* dtype_name(DType dtype);
const char* device_name(Device device);

int64_t numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "(2, 3, 4)"

// Wraps a possibly negative dim into [0, rank); throws naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t rank, const char* op);

// NumPy broadcasting of two shapes; throws "[op] shapes (2, 3) and (4,) do not broadcast".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace focal
