// The few parts of the ONNX Runtime C ABI that the resident-KV addon calls, declared here because
// no registry this project builds from ships ORT's C headers (docs/engine.md, "Resident KV").
//
// ORT's C API is one table of function pointers (OrtApi) reached through OrtGetApiBase()->GetApi(v).
// The table is append-only across releases: an entry never moves once released, and a newer runtime
// serves every older version. We ask for version 9 (ORT 1.9) and use only entries that exist there;
// the slot numbers below are positions in that frozen table (ORT itself pins several of them with
// static_asserts: ReleaseCustomOpDomain = 101, ReleaseModelMetadata = 118, ReleaseAvailableProviders
// = 126, ReleaseArenaCfg = 157). OrtRuntime::Load() checks the table against the running library
// (status round trip, version string) before anything else is called.
#pragma once

#include <cstddef>
#include <cstdint>

namespace omnicap::ortabi {

struct OrtStatus;
struct OrtEnv;
struct OrtSession;
struct OrtSessionOptions;
struct OrtValue;
struct OrtMemoryInfo;
struct OrtIoBinding;
struct OrtAllocator;
struct OrtRunOptions;
struct OrtTypeInfo;
struct OrtTensorTypeAndShapeInfo;

constexpr uint32_t kApiVersion = 9;

// ONNXTensorElementDataType values (TensorProto.DataType).
enum ElementType : int { kUndefined = 0, kFloat = 1, kInt64 = 7, kFloat16 = 10 };
enum LoggingLevel : int { kLogWarning = 2, kLogError = 3 };
enum AllocatorType : int { kDeviceAllocator = 0, kArenaAllocator = 1 };
enum MemType : int { kMemTypeDefault = 0 };
enum ErrorCode : int { kOk = 0, kFail = 1 };
enum GraphOptimization : int { kOptimizeAll = 99 };

struct ApiBase {
  const void* const* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};
using GetApiBaseFn = const ApiBase* (*)();

// OrtCUDAProviderOptions as of API 9. Later releases append fields (all zero means their
// defaults), so the addon passes this inside a larger zeroed block.
struct CudaProviderOptionsV9 {
  int device_id;
  int cudnn_conv_algo_search;  // 0 exhaustive, 1 heuristic, 2 default
  size_t gpu_mem_limit;
  int arena_extend_strategy;
  int do_copy_in_default_stream;
  int has_user_compute_stream;
  void* user_compute_stream;
  void* default_memory_arena_cfg;
};

// Positions in the OrtApi table (version 9).
enum Slot : int {
  kCreateStatus = 0,
  kGetErrorCode = 1,
  kGetErrorMessage = 2,
  kCreateEnv = 3,
  kCreateSession = 7,
  kCreateSessionOptions = 10,
  kSetSessionGraphOptimizationLevel = 23,
  kSetIntraOpNumThreads = 24,
  kSetInterOpNumThreads = 25,
  kSessionGetInputCount = 30,
  kSessionGetOutputCount = 31,
  kSessionGetInputTypeInfo = 33,
  kSessionGetOutputTypeInfo = 34,
  kSessionGetInputName = 36,
  kSessionGetOutputName = 37,
  kCreateRunOptions = 39,
  kRunOptionsSetTerminate = 46,
  kRunOptionsUnsetTerminate = 47,
  kCreateTensorAsOrtValue = 48,
  kCreateTensorWithDataAsOrtValue = 49,
  kGetTensorMutableData = 51,
  kCastTypeInfoToTensorInfo = 55,
  kGetTensorElementType = 60,
  kGetDimensionsCount = 61,
  kGetDimensions = 62,
  kGetTensorTypeAndShape = 65,
  kCreateMemoryInfo = 68,
  kCreateCpuMemoryInfo = 69,
  kAllocatorFree = 76,
  kGetAllocatorWithDefaultOptions = 78,
  kReleaseEnv = 92,
  kReleaseStatus = 93,
  kReleaseMemoryInfo = 94,
  kReleaseSession = 95,
  kReleaseValue = 96,
  kReleaseRunOptions = 97,
  kReleaseTypeInfo = 98,
  kReleaseTensorTypeAndShapeInfo = 99,
  kReleaseSessionOptions = 100,
  kAddSessionConfigEntry = 130,
  kCreateAllocator = 131,
  kReleaseAllocator = 132,
  kRunWithBinding = 133,
  kCreateIoBinding = 134,
  kReleaseIoBinding = 135,
  kBindInput = 136,
  kBindOutput = 137,
  kBindOutputToDevice = 138,
  kGetBoundOutputValues = 140,
  kClearBoundInputs = 141,
  kClearBoundOutputs = 142,
  kSessionOptionsAppendExecutionProvider_CUDA = 152,
  kSlotCount = 153,
};

}  // namespace omnicap::ortabi
