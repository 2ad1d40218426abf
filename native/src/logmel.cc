#include "logmel.h"

#include <algorithm>
#include <cmath>

namespace omnicap {

namespace {

constexpr double kPi = 3.14159265358979323846;

double HzToMel(double f) {
  if (f >= 1000.0) return 15.0 + std::log(f / 1000.0) * (27.0 / std::log(6.4));
  return 3.0 * f / 200.0;
}
double MelToHz(double m) {
  if (m >= 15.0) return 1000.0 * std::exp((std::log(6.4) / 27.0) * (m - 15.0));
  return 200.0 * m / 3.0;
}
std::vector<double> Linspace(double a, double b, int n) {
  std::vector<double> v(n);
  double step = (b - a) / (n - 1);
  for (int i = 0; i < n; i++) v[i] = i * step + a;
  v[n - 1] = b;
  return v;
}
size_t ReflectIndex(long i, long len) {
  if (len == 1) return 0;
  long period = 2 * (len - 1);
  long j = i % period;
  if (j < 0) j += period;
  return static_cast<size_t>(j < len ? j : period - j);
}

}  // namespace

LogMelTables::LogMelTables() {
  window_.resize(kNFft);
  for (int i = 0; i < kNFft; i++) window_[i] = 0.5 - 0.5 * std::cos(2.0 * kPi * i / kNFft);
  // complex FFT of size kNFft/2 = 200 = 4 * 2 * 5 * 5 (Stockham DIF)
  const int half = kNFft / 2;
  int len = half, s = 1, m = half;
  std::vector<int> radices;
  for (int p : {4, 2, 3, 5}) while (m % p == 0) { radices.push_back(p); m /= p; }
  for (int radix : radices) {
    Stage st{radix, len, s, {}};
    int mm = len / radix;
    st.tw.resize(2 * mm * (radix - 1));
    for (int q = 0; q < mm; q++)
      for (int r = 1; r < radix; r++) {
        double ang = -2.0 * kPi * q * r / len;
        st.tw[2 * (q * (radix - 1) + r - 1)] = std::cos(ang);
        st.tw[2 * (q * (radix - 1) + r - 1) + 1] = std::sin(ang);
      }
    stages_.push_back(std::move(st));
    len = mm;
    s *= radix;
  }
  split_re_.resize(kNumBins);
  split_im_.resize(kNumBins);
  for (int k = 0; k < kNumBins; k++) {
    split_re_[k] = std::cos(-2.0 * kPi * k / kNFft);
    split_im_[k] = std::sin(-2.0 * kPi * k / kNFft);
  }
  // Slaney mel filters (transformers audio_utils.mel_filter_bank), stored sparsely.
  std::vector<double> mel = Linspace(HzToMel(0.0), HzToMel(8000.0), kNumMel + 2);
  std::vector<double> ff(mel.size());
  for (size_t i = 0; i < mel.size(); i++) ff[i] = MelToHz(mel[i]);
  std::vector<double> fft_freqs = Linspace(0.0, kSampleRate / 2, kNumBins);
  mel_start_.assign(kNumMel, 0);
  mel_len_.assign(kNumMel, 0);
  mel_off_.assign(kNumMel, 0);
  for (int mi = 0; mi < kNumMel; mi++) {
    mel_off_[mi] = static_cast<int>(mel_w_.size());
    double enorm = 2.0 / (ff[mi + 2] - ff[mi]);
    int first = -1;
    std::vector<double> w;
    for (int f = 0; f < kNumBins; f++) {
      double down = -(ff[mi] - fft_freqs[f]) / (ff[mi + 1] - ff[mi]);
      double up = (ff[mi + 2] - fft_freqs[f]) / (ff[mi + 2] - ff[mi + 1]);
      double tri = std::max(0.0, std::min(down, up)) * enorm;
      if (tri != 0.0) {
        if (first < 0) first = f;
        w.resize(f - first + 1, 0.0);
        w[f - first] = tri;
      }
    }
    if (first < 0) continue;
    mel_start_[mi] = first;
    mel_len_[mi] = static_cast<int>(w.size());
    mel_w_.insert(mel_w_.end(), w.begin(), w.end());
  }
}

void LogMelTables::PowerSpectrum(const double* frame, double* power, double* xr, double* xi, double* yr, double* yi) const {
  const int h = kNFft / 2;
  for (int j = 0; j < h; j++) { xr[j] = frame[2 * j]; xi[j] = frame[2 * j + 1]; }
  for (const Stage& st : stages_) {
    const int p = st.radix, s = st.s, mm = st.n / p, ms = mm * s;
    const double* tw = st.tw.data();
    if (p == 4) {
      for (int q = 0; q < mm; q++) {
        const double w1r = tw[6 * q], w1i = tw[6 * q + 1], w2r = tw[6 * q + 2], w2i = tw[6 * q + 3], w3r = tw[6 * q + 4], w3i = tw[6 * q + 5];
        for (int k = 0; k < s; k++) {
          const int i0 = k + s * q;
          const double a0r = xr[i0], a0i = xi[i0], a1r = xr[i0 + ms], a1i = xi[i0 + ms];
          const double a2r = xr[i0 + 2 * ms], a2i = xi[i0 + 2 * ms], a3r = xr[i0 + 3 * ms], a3i = xi[i0 + 3 * ms];
          const double s02r = a0r + a2r, s02i = a0i + a2i, d02r = a0r - a2r, d02i = a0i - a2i;
          const double s13r = a1r + a3r, s13i = a1i + a3i, d13r = a1r - a3r, d13i = a1i - a3i;
          const int o = k + s * 4 * q;
          yr[o] = s02r + s13r; yi[o] = s02i + s13i;
          const double b1r = d02r + d13i, b1i = d02i - d13r;
          yr[o + s] = b1r * w1r - b1i * w1i; yi[o + s] = b1r * w1i + b1i * w1r;
          const double b2r = s02r - s13r, b2i = s02i - s13i;
          yr[o + 2 * s] = b2r * w2r - b2i * w2i; yi[o + 2 * s] = b2r * w2i + b2i * w2r;
          const double b3r = d02r - d13i, b3i = d02i + d13r;
          yr[o + 3 * s] = b3r * w3r - b3i * w3i; yi[o + 3 * s] = b3r * w3i + b3i * w3r;
        }
      }
    } else if (p == 2) {
      for (int q = 0; q < mm; q++) {
        const double wr = tw[2 * q], wi = tw[2 * q + 1];
        for (int k = 0; k < s; k++) {
          const int i0 = k + s * q, o = k + s * 2 * q;
          const double ar = xr[i0], ai = xi[i0], br = xr[i0 + ms], bi = xi[i0 + ms];
          yr[o] = ar + br; yi[o] = ai + bi;
          const double dr = ar - br, di = ai - bi;
          yr[o + s] = dr * wr - di * wi; yi[o + s] = dr * wi + di * wr;
        }
      }
    } else if (p == 5) {
      const double c1 = std::cos(2.0 * kPi / 5), c2 = std::cos(4.0 * kPi / 5), s1 = std::sin(2.0 * kPi / 5), s2 = std::sin(4.0 * kPi / 5);
      for (int q = 0; q < mm; q++) {
        const double* w = tw + 8 * q;
        for (int k = 0; k < s; k++) {
          const int i0 = k + s * q, o = k + s * 5 * q;
          const double a0r = xr[i0], a0i = xi[i0], a1r = xr[i0 + ms], a1i = xi[i0 + ms];
          const double a2r = xr[i0 + 2 * ms], a2i = xi[i0 + 2 * ms], a3r = xr[i0 + 3 * ms], a3i = xi[i0 + 3 * ms];
          const double a4r = xr[i0 + 4 * ms], a4i = xi[i0 + 4 * ms];
          const double t1r = a1r + a4r, t1i = a1i + a4i, t3r = a1r - a4r, t3i = a1i - a4i;
          const double t2r = a2r + a3r, t2i = a2i + a3i, t4r = a2r - a3r, t4i = a2i - a3i;
          const double b1r = a0r + c1 * t1r + c2 * t2r, b1i = a0i + c1 * t1i + c2 * t2i;
          const double b2r = a0r + c2 * t1r + c1 * t2r, b2i = a0i + c2 * t1i + c1 * t2i;
          const double d1r = s1 * t3r + s2 * t4r, d1i = s1 * t3i + s2 * t4i;
          const double d2r = s2 * t3r - s1 * t4r, d2i = s2 * t3i - s1 * t4i;
          yr[o] = a0r + t1r + t2r; yi[o] = a0i + t1i + t2i;
          const double y1r = b1r + d1i, y1i = b1i - d1r, y4r = b1r - d1i, y4i = b1i + d1r;
          const double y2r = b2r + d2i, y2i = b2i - d2r, y3r = b2r - d2i, y3i = b2i + d2r;
          yr[o + s] = y1r * w[0] - y1i * w[1]; yi[o + s] = y1r * w[1] + y1i * w[0];
          yr[o + 2 * s] = y2r * w[2] - y2i * w[3]; yi[o + 2 * s] = y2r * w[3] + y2i * w[2];
          yr[o + 3 * s] = y3r * w[4] - y3i * w[5]; yi[o + 3 * s] = y3r * w[5] + y3i * w[4];
          yr[o + 4 * s] = y4r * w[6] - y4i * w[7]; yi[o + 4 * s] = y4r * w[7] + y4i * w[6];
        }
      }
    } else {  // generic odd radix (3): direct small DFT
      double cr[8], ci[8];
      for (int j = 0; j < p; j++) { cr[j] = std::cos(-2.0 * kPi * j / p); ci[j] = std::sin(-2.0 * kPi * j / p); }
      for (int q = 0; q < mm; q++)
        for (int k = 0; k < s; k++) {
          const int i0 = k + s * q, o = k + s * p * q;
          for (int r = 0; r < p; r++) {
            double sr = 0, si = 0;
            for (int j = 0; j < p; j++) {
              const int e = (j * r) % p;
              const double vr = xr[i0 + j * ms], vi = xi[i0 + j * ms];
              sr += vr * cr[e] - vi * ci[e];
              si += vr * ci[e] + vi * cr[e];
            }
            if (r == 0) { yr[o] = sr; yi[o] = si; }
            else {
              const double wr = tw[2 * (q * (p - 1) + r - 1)], wi = tw[2 * (q * (p - 1) + r - 1) + 1];
              yr[o + r * s] = sr * wr - si * wi; yi[o + r * s] = sr * wi + si * wr;
            }
          }
        }
    }
    std::swap(xr, yr);
    std::swap(xi, yi);
  }
  for (int k = 0; k <= h; k++) {
    const int k1 = k == h ? 0 : k, k2 = k == 0 ? 0 : h - k;
    const double zr = xr[k1], zi = xi[k1], cr = xr[k2], ci = -xi[k2];
    const double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
    const double o_r = 0.5 * (zi - ci), o_i = -0.5 * (zr - cr);
    const double wr = split_re_[k], wi = split_im_[k];
    const double re = er + wr * o_r - wi * o_i, im = ei + wr * o_i + wi * o_r;
    power[k] = re * re + im * im;
  }
}

void LogMelTables::Compute(const float* samples, size_t n, float* out) const {
  const size_t frames = n / kHop;
  const long pad = kNFft / 2;
  const long len = static_cast<long>(n);
  std::vector<double> log_spec(kNumMel * frames);
  double frame[kNFft], power[kNumBins], ar[kNFft / 2], ai[kNFft / 2], br[kNFft / 2], bi[kNFft / 2];
  double max_val = -INFINITY;
  for (size_t t = 0; t < frames; t++) {
    const long base = static_cast<long>(t) * kHop - pad;
    if (base >= 0 && base + kNFft <= len) {
      const float* src = samples + base;
      for (int i = 0; i < kNFft; i++) frame[i] = static_cast<double>(src[i]) * window_[i];
    } else {
      for (int i = 0; i < kNFft; i++) frame[i] = static_cast<double>(samples[ReflectIndex(base + i, len)]) * window_[i];
    }
    PowerSpectrum(frame, power, ar, ai, br, bi);
    for (int m = 0; m < kNumMel; m++) {
      const double* w = mel_w_.data() + mel_off_[m];
      const double* pw = power + mel_start_[m];
      double acc = 0.0;
      for (int k = 0, l = mel_len_[m]; k < l; k++) acc += w[k] * pw[k];
      const double v = std::log10(acc > 1e-10 ? acc : 1e-10);
      log_spec[t * kNumMel + m] = v;  // frame-major while computing (contiguous writes)
      if (v > max_val) max_val = v;
    }
  }
  const double floor_val = max_val - 8.0;
  // transpose to mel-major in cache-friendly blocks of frames
  constexpr size_t kBlock = 64;
  for (size_t t0 = 0; t0 < frames; t0 += kBlock) {
    const size_t t1 = std::min(frames, t0 + kBlock);
    for (int m = 0; m < kNumMel; m++) {
      float* dst = out + static_cast<size_t>(m) * frames;
      for (size_t t = t0; t < t1; t++) {
        const double v = log_spec[t * kNumMel + m];
        dst[t] = static_cast<float>(((v > floor_val ? v : floor_val) + 4.0) / 4.0);
      }
    }
  }
}

const LogMelTables& SharedTables() {
  static const LogMelTables tables;  // C++11 thread-safe static init
  return tables;
}

}  // namespace omnicap
