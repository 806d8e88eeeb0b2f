// A seeded, counter-based random generator: value i of a draw is a hash of (seed, i), so
// the same seed gives the same numbers whatever the thread count or device.
#pragma once
#include <cstdint>

namespace focal {

class Generator {
public:
    explicit Generator(uint64_t seed = 0) : seed_(seed) {}
    uint64_t seed() const { return seed_; }
    uint64_t offset() const { return offset_; }
    void set_state(uint64_t seed, uint64_t offset) { seed_ = seed, offset_ = offset; }

    // Reserves `count` consecutive counters and returns the first.
    uint64_t advance(uint64_t count) {
        uint64_t first = offset_;
        offset_ += count;
        return first;
    }
    // The i-th 64-bit random word of this seed (splitmix64 of seed and counter).
    uint64_t bits(uint64_t counter) const {
        uint64_t z = seed_ * 0x9E3779B97F4A7C15ull + counter * 0xD1B54A32D192ED03ull + 1;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 24 random bits (exactly representable in float32).
    float uniform(uint64_t counter) const { return static_cast<float>(bits(counter) >> 40) * (1.0f / 16777216.0f); }

private:
    uint64_t seed_;
    uint64_t offset_ = 0;
};

}  // namespace focal
