// Typed calls into the ONNX Runtime C API table (see ort_abi.h), loaded once per process from the
// libonnxruntime that onnxruntime-node ships, so the addon and onnxruntime-node share one runtime.
// Every call that returns an OrtStatus goes through Check(), which turns a failure into OrtError.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "ort_abi.h"

namespace omnicap {

class OrtError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TensorInfo {
  std::string name;
  int elementType = 0;
  std::vector<int64_t> dims;  // -1 for a symbolic dimension
};

class OrtRuntime {
 public:
  // Loads `libraryPath` (once per process; later calls must name the same file) and checks the
  // API table. Throws OrtError with the reason when the library or its API is unusable.
  static const OrtRuntime& Load(const std::string& libraryPath);

  const std::string& version() const { return version_; }
  const std::string& libraryPath() const { return path_; }
  ortabi::OrtEnv* env() const { return env_; }
  ortabi::OrtAllocator* cpuAllocator() const { return allocator_; }
  ortabi::OrtMemoryInfo* cpuMemory() const { return cpuMemory_; }

  void Check(ortabi::OrtStatus* status, const char* what) const;

  ortabi::OrtSession* CreateSession(const std::string& path, int intraThreads, bool spinning, bool cuda, int deviceId) const;
  std::vector<TensorInfo> Inputs(ortabi::OrtSession* s) const;
  std::vector<TensorInfo> Outputs(ortabi::OrtSession* s) const;

  ortabi::OrtValue* TensorOver(void* data, size_t bytes, const std::vector<int64_t>& shape, int type) const;
  ortabi::OrtValue* AllocTensor(ortabi::OrtAllocator* a, const std::vector<int64_t>& shape, int type) const;
  void* Data(ortabi::OrtValue* v) const;
  int ElementType(ortabi::OrtValue* v) const;
  std::vector<int64_t> Shape(ortabi::OrtValue* v) const;

  ortabi::OrtMemoryInfo* CudaMemory(int deviceId) const;
  ortabi::OrtAllocator* SessionAllocator(ortabi::OrtSession* s, ortabi::OrtMemoryInfo* info) const;

  ortabi::OrtIoBinding* CreateIoBinding(ortabi::OrtSession* s) const;
  void BindInput(ortabi::OrtIoBinding* b, const std::string& name, ortabi::OrtValue* v) const;
  void BindOutput(ortabi::OrtIoBinding* b, const std::string& name, ortabi::OrtValue* v) const;
  void BindOutputToDevice(ortabi::OrtIoBinding* b, const std::string& name, ortabi::OrtMemoryInfo* m) const;
  void ClearBindings(ortabi::OrtIoBinding* b) const;
  void RunWithBinding(ortabi::OrtSession* s, ortabi::OrtRunOptions* ro, ortabi::OrtIoBinding* b) const;
  std::vector<ortabi::OrtValue*> BoundOutputs(ortabi::OrtIoBinding* b) const;

  ortabi::OrtRunOptions* CreateRunOptions() const;
  void Terminate(ortabi::OrtRunOptions* ro, bool on) const;

  void Release(ortabi::OrtValue* v) const;
  void Release(ortabi::OrtSession* s) const;
  void Release(ortabi::OrtIoBinding* b) const;
  void Release(ortabi::OrtRunOptions* r) const;
  void Release(ortabi::OrtMemoryInfo* m) const;
  void Release(ortabi::OrtAllocator* a) const;

 private:
  template <typename Fn>
  Fn At(ortabi::Slot s) const {
    return reinterpret_cast<Fn>(const_cast<void*>(table_[s]));
  }
  std::vector<TensorInfo> Describe(ortabi::OrtSession* s, bool inputs) const;

  const void* const* table_ = nullptr;
  ortabi::OrtEnv* env_ = nullptr;
  ortabi::OrtAllocator* allocator_ = nullptr;
  ortabi::OrtMemoryInfo* cpuMemory_ = nullptr;
  std::string version_;
  std::string path_;
};

}  // namespace omnicap
