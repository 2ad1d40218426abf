// Log-mel features with Qwen3-Omni / WhisperFeatureExtractor semantics (see docs/features.md).
#pragma once
#include <cstddef>
#include <vector>

namespace omnicap {

constexpr int kSampleRate = 16000;
constexpr int kNFft = 400;
constexpr int kHop = 160;
constexpr int kNumMel = 128;
constexpr int kNumBins = kNFft / 2 + 1;

// Precomputed, immutable tables (window, twiddles, sparse mel filters). Thread-safe to share.
class LogMelTables {
 public:
  LogMelTables();
  // samples.size() >= kHop; writes kNumMel * (n / kHop) floats, mel-major.
  void Compute(const float* samples, size_t n, float* out) const;

 private:
  struct Stage {
    int radix, n, s;
    std::vector<double> tw;  // re/im interleaved, [q][r-1]
  };
  void PowerSpectrum(const double* frame, double* power, double* ar, double* ai, double* br, double* bi) const;
  std::vector<double> window_;
  std::vector<Stage> stages_;
  std::vector<double> split_re_, split_im_;
  std::vector<int> mel_start_, mel_len_, mel_off_;
  std::vector<double> mel_w_;
};

const LogMelTables& SharedTables();

}  // namespace omnicap
