// A small seeded random generator whose streams are the same on every platform.
// std::uniform_*_distribution and std::normal_distribution are implementation-defined
// (libstdc++ and libc++ give different numbers), so the mappings below are our own.
#pragma once
#include <cstdint>

namespace focal::data {

// splitmix64 step (Steele, Lea, Flood 2014): a full-period mixer, also used to derive seeds.
inline std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// mix_seed(seed, a, b): an independent seed per (seed, a, b), e.g. (seed, epoch, index), so a
// sample's randomness depends on what it is, never on which thread got to it first.
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
    std::uint64_t s = seed;
    std::uint64_t h = splitmix64(s);
    s = h ^ (a * 0xd1b54a32d192ed03ull);
    h = splitmix64(s);
    s = h ^ (b * 0xaef17502108ef2d9ull);
    return splitmix64(s);
}

// xoshiro256** (Blackman, Vigna 2018) seeded through splitmix64.
class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) {
        for (auto& word : s_) word = splitmix64(seed);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in [0, 1): the top 53 bits as a double's mantissa.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    // Uniform integer in [lo, hi] (inclusive), by Lemire's multiply-shift; the bias is below
    // 2^-32 for the ranges used here and, above all, identical everywhere.
    int uniform_int(int lo, int hi) {
        const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
        const std::uint64_t r = (next() >> 32) * span >> 32;
        return lo + static_cast<int>(r);
    }

    bool chance(double p) { return uniform() < p; }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

}  // namespace focal::data
