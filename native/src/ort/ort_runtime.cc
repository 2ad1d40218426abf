#include "ort_runtime.h"

#include <dlfcn.h>

#include <cstring>
#include <memory>
#include <mutex>

namespace omnicap {

using namespace ortabi;

namespace {

using StatusFn0 = OrtStatus* (*)();
using CreateStatusFn = OrtStatus* (*)(int, const char*);
using GetErrorCodeFn = int (*)(const OrtStatus*);
using GetErrorMessageFn = const char* (*)(const OrtStatus*);
using ReleaseStatusFn = void (*)(OrtStatus*);

std::mutex loadMutex;
std::unique_ptr<OrtRuntime> loaded;  // never released: the runtime lives as long as the process

}  // namespace

void OrtRuntime::Check(OrtStatus* status, const char* what) const {
  if (status == nullptr) return;
  std::string msg = At<GetErrorMessageFn>(kGetErrorMessage)(status);
  At<ReleaseStatusFn>(kReleaseStatus)(status);
  throw OrtError(std::string(what) + ": " + msg);
}

const OrtRuntime& OrtRuntime::Load(const std::string& libraryPath) {
  std::lock_guard<std::mutex> lock(loadMutex);
  if (loaded) {
    if (loaded->path_ != libraryPath) throw OrtError("onnxruntime is already loaded from " + loaded->path_ + ", not " + libraryPath);
    return *loaded;
  }
  void* handle = dlopen(libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = dlerror();
    throw OrtError(std::string("cannot load onnxruntime library: ") + (e != nullptr ? e : "unknown error"));
  }
  auto getBase = reinterpret_cast<GetApiBaseFn>(dlsym(handle, "OrtGetApiBase"));
  if (getBase == nullptr) throw OrtError("the library has no OrtGetApiBase symbol: not an onnxruntime build");
  const ApiBase* base = getBase();
  if (base == nullptr || base->GetApi == nullptr || base->GetVersionString == nullptr) throw OrtError("OrtGetApiBase returned no API");
  auto rt = std::make_unique<OrtRuntime>();
  rt->path_ = libraryPath;
  rt->version_ = base->GetVersionString();
  rt->table_ = base->GetApi(kApiVersion);
  if (rt->table_ == nullptr) throw OrtError("onnxruntime " + rt->version_ + " does not serve C API version 9");
  // The table must behave as laid out in ort_abi.h: a status made by slot 0 reads back through
  // slots 1 and 2 (a shifted table would return other functions here).
  OrtStatus* probe = rt->At<CreateStatusFn>(kCreateStatus)(kFail, "omnicap-abi-probe");
  if (probe == nullptr) throw OrtError("CreateStatus returned null: unexpected C API table");
  const bool codeOk = rt->At<GetErrorCodeFn>(kGetErrorCode)(probe) == kFail;
  const bool msgOk = std::strcmp(rt->At<GetErrorMessageFn>(kGetErrorMessage)(probe), "omnicap-abi-probe") == 0;
  rt->At<ReleaseStatusFn>(kReleaseStatus)(probe);
  if (!codeOk || !msgOk) throw OrtError("the C API table of onnxruntime " + rt->version_ + " does not match the expected layout");

  using CreateEnvFn = OrtStatus* (*)(int, const char*, OrtEnv**);
  rt->Check(rt->At<CreateEnvFn>(kCreateEnv)(kLogError, "omnicap-resident", &rt->env_), "CreateEnv");
  using GetAllocFn = OrtStatus* (*)(OrtAllocator**);
  rt->Check(rt->At<GetAllocFn>(kGetAllocatorWithDefaultOptions)(&rt->allocator_), "GetAllocatorWithDefaultOptions");
  using CpuMemFn = OrtStatus* (*)(int, int, OrtMemoryInfo**);
  rt->Check(rt->At<CpuMemFn>(kCreateCpuMemoryInfo)(kArenaAllocator, kMemTypeDefault, &rt->cpuMemory_), "CreateCpuMemoryInfo");
  loaded = std::move(rt);
  return *loaded;
}

OrtSession* OrtRuntime::CreateSession(const std::string& path, int intraThreads, bool spinning, bool cuda, int deviceId) const {
  using CreateOptsFn = OrtStatus* (*)(OrtSessionOptions**);
  using SetIntFn = OrtStatus* (*)(OrtSessionOptions*, int);
  using ConfigFn = OrtStatus* (*)(OrtSessionOptions*, const char*, const char*);
  using CudaFn = OrtStatus* (*)(OrtSessionOptions*, const void*);
  using CreateFn = OrtStatus* (*)(const OrtEnv*, const char*, const OrtSessionOptions*, OrtSession**);
  using ReleaseOptsFn = void (*)(OrtSessionOptions*);
  OrtSessionOptions* so = nullptr;
  Check(At<CreateOptsFn>(kCreateSessionOptions)(&so), "CreateSessionOptions");
  struct Guard {
    const OrtRuntime* rt;
    OrtSessionOptions* so;
    ~Guard() { rt->At<ReleaseOptsFn>(kReleaseSessionOptions)(so); }
  } guard{this, so};
  if (intraThreads > 0) Check(At<SetIntFn>(kSetIntraOpNumThreads)(so, intraThreads), "SetIntraOpNumThreads");
  Check(At<SetIntFn>(kSetInterOpNumThreads)(so, 1), "SetInterOpNumThreads");
  Check(At<SetIntFn>(kSetSessionGraphOptimizationLevel)(so, kOptimizeAll), "SetSessionGraphOptimizationLevel");
  const char* spin = spinning ? "1" : "0";
  Check(At<ConfigFn>(kAddSessionConfigEntry)(so, "session.intra_op.allow_spinning", spin), "AddSessionConfigEntry");
  Check(At<ConfigFn>(kAddSessionConfigEntry)(so, "session.inter_op.allow_spinning", spin), "AddSessionConfigEntry");
  if (cuda) {
    // Room for the fields later releases append to OrtCUDAProviderOptions (zero = their default).
    alignas(16) unsigned char block[512] = {};
    auto* o = reinterpret_cast<CudaProviderOptionsV9*>(block);
    o->device_id = deviceId;
    o->cudnn_conv_algo_search = 1;
    o->gpu_mem_limit = SIZE_MAX;
    o->do_copy_in_default_stream = 1;
    Check(At<CudaFn>(kSessionOptionsAppendExecutionProvider_CUDA)(so, block), "append the CUDA execution provider");
  }
  OrtSession* session = nullptr;
  Check(At<CreateFn>(kCreateSession)(env_, path.c_str(), so, &session), "CreateSession");
  return session;
}

std::vector<TensorInfo> OrtRuntime::Describe(OrtSession* s, bool inputs) const {
  using CountFn = OrtStatus* (*)(const OrtSession*, size_t*);
  using NameFn = OrtStatus* (*)(const OrtSession*, size_t, OrtAllocator*, char**);
  using TypeInfoFn = OrtStatus* (*)(const OrtSession*, size_t, OrtTypeInfo**);
  using CastFn = OrtStatus* (*)(const OrtTypeInfo*, const OrtTensorTypeAndShapeInfo**);
  using ElemFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int*);
  using DimCountFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, size_t*);
  using DimsFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int64_t*, size_t);
  using FreeFn = OrtStatus* (*)(OrtAllocator*, void*);
  using ReleaseTypeInfoFn = void (*)(OrtTypeInfo*);
  size_t n = 0;
  Check(At<CountFn>(inputs ? kSessionGetInputCount : kSessionGetOutputCount)(s, &n), "SessionGetCount");
  std::vector<TensorInfo> out(n);
  for (size_t i = 0; i < n; i++) {
    char* name = nullptr;
    Check(At<NameFn>(inputs ? kSessionGetInputName : kSessionGetOutputName)(s, i, allocator_, &name), "SessionGetName");
    out[i].name = name;
    Check(At<FreeFn>(kAllocatorFree)(allocator_, name), "AllocatorFree");
    OrtTypeInfo* ti = nullptr;
    Check(At<TypeInfoFn>(inputs ? kSessionGetInputTypeInfo : kSessionGetOutputTypeInfo)(s, i, &ti), "SessionGetTypeInfo");
    const OrtTensorTypeAndShapeInfo* tinfo = nullptr;
    OrtStatus* st = At<CastFn>(kCastTypeInfoToTensorInfo)(ti, &tinfo);
    if (st == nullptr && tinfo != nullptr) {
      size_t nd = 0;
      st = At<ElemFn>(kGetTensorElementType)(tinfo, &out[i].elementType);
      if (st == nullptr) st = At<DimCountFn>(kGetDimensionsCount)(tinfo, &nd);
      if (st == nullptr) {
        out[i].dims.resize(nd);
        st = At<DimsFn>(kGetDimensions)(tinfo, out[i].dims.data(), nd);
      }
    }
    At<ReleaseTypeInfoFn>(kReleaseTypeInfo)(ti);
    Check(st, "describe a graph input/output");
  }
  return out;
}

std::vector<TensorInfo> OrtRuntime::Inputs(OrtSession* s) const { return Describe(s, true); }
std::vector<TensorInfo> OrtRuntime::Outputs(OrtSession* s) const { return Describe(s, false); }

OrtValue* OrtRuntime::TensorOver(void* data, size_t bytes, const std::vector<int64_t>& shape, int type) const {
  using Fn = OrtStatus* (*)(const OrtMemoryInfo*, void*, size_t, const int64_t*, size_t, int, OrtValue**);
  OrtValue* v = nullptr;
  Check(At<Fn>(kCreateTensorWithDataAsOrtValue)(cpuMemory_, data, bytes, shape.data(), shape.size(), type, &v), "CreateTensorWithDataAsOrtValue");
  return v;
}

OrtValue* OrtRuntime::AllocTensor(OrtAllocator* a, const std::vector<int64_t>& shape, int type) const {
  using Fn = OrtStatus* (*)(OrtAllocator*, const int64_t*, size_t, int, OrtValue**);
  OrtValue* v = nullptr;
  Check(At<Fn>(kCreateTensorAsOrtValue)(a != nullptr ? a : allocator_, shape.data(), shape.size(), type, &v), "CreateTensorAsOrtValue");
  return v;
}

void* OrtRuntime::Data(OrtValue* v) const {
  using Fn = OrtStatus* (*)(OrtValue*, void**);
  void* p = nullptr;
  Check(At<Fn>(kGetTensorMutableData)(v, &p), "GetTensorMutableData");
  return p;
}

int OrtRuntime::ElementType(OrtValue* v) const {
  using InfoFn = OrtStatus* (*)(const OrtValue*, OrtTensorTypeAndShapeInfo**);
  using ElemFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int*);
  using ReleaseFn = void (*)(OrtTensorTypeAndShapeInfo*);
  OrtTensorTypeAndShapeInfo* info = nullptr;
  Check(At<InfoFn>(kGetTensorTypeAndShape)(v, &info), "GetTensorTypeAndShape");
  int t = 0;
  OrtStatus* st = At<ElemFn>(kGetTensorElementType)(info, &t);
  At<ReleaseFn>(kReleaseTensorTypeAndShapeInfo)(info);
  Check(st, "GetTensorElementType");
  return t;
}

std::vector<int64_t> OrtRuntime::Shape(OrtValue* v) const {
  using InfoFn = OrtStatus* (*)(const OrtValue*, OrtTensorTypeAndShapeInfo**);
  using DimCountFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, size_t*);
  using DimsFn = OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int64_t*, size_t);
  using ReleaseFn = void (*)(OrtTensorTypeAndShapeInfo*);
  OrtTensorTypeAndShapeInfo* info = nullptr;
  Check(At<InfoFn>(kGetTensorTypeAndShape)(v, &info), "GetTensorTypeAndShape");
  size_t nd = 0;
  std::vector<int64_t> dims;
  OrtStatus* st = At<DimCountFn>(kGetDimensionsCount)(info, &nd);
  if (st == nullptr) {
    dims.resize(nd);
    st = At<DimsFn>(kGetDimensions)(info, dims.data(), nd);
  }
  At<ReleaseFn>(kReleaseTensorTypeAndShapeInfo)(info);
  Check(st, "GetDimensions");
  return dims;
}

OrtMemoryInfo* OrtRuntime::CudaMemory(int deviceId) const {
  using Fn = OrtStatus* (*)(const char*, int, int, int, OrtMemoryInfo**);
  OrtMemoryInfo* m = nullptr;
  Check(At<Fn>(kCreateMemoryInfo)("Cuda", kArenaAllocator, deviceId, kMemTypeDefault, &m), "CreateMemoryInfo(Cuda)");
  return m;
}

OrtAllocator* OrtRuntime::SessionAllocator(OrtSession* s, OrtMemoryInfo* info) const {
  using Fn = OrtStatus* (*)(const OrtSession*, const OrtMemoryInfo*, OrtAllocator**);
  OrtAllocator* a = nullptr;
  Check(At<Fn>(kCreateAllocator)(s, info, &a), "CreateAllocator");
  return a;
}

OrtIoBinding* OrtRuntime::CreateIoBinding(OrtSession* s) const {
  using Fn = OrtStatus* (*)(OrtSession*, OrtIoBinding**);
  OrtIoBinding* b = nullptr;
  Check(At<Fn>(kCreateIoBinding)(s, &b), "CreateIoBinding");
  return b;
}

void OrtRuntime::BindInput(OrtIoBinding* b, const std::string& name, OrtValue* v) const {
  using Fn = OrtStatus* (*)(OrtIoBinding*, const char*, const OrtValue*);
  Check(At<Fn>(kBindInput)(b, name.c_str(), v), "BindInput");
}

void OrtRuntime::BindOutput(OrtIoBinding* b, const std::string& name, OrtValue* v) const {
  using Fn = OrtStatus* (*)(OrtIoBinding*, const char*, const OrtValue*);
  Check(At<Fn>(kBindOutput)(b, name.c_str(), v), "BindOutput");
}

void OrtRuntime::BindOutputToDevice(OrtIoBinding* b, const std::string& name, OrtMemoryInfo* m) const {
  using Fn = OrtStatus* (*)(OrtIoBinding*, const char*, const OrtMemoryInfo*);
  Check(At<Fn>(kBindOutputToDevice)(b, name.c_str(), m), "BindOutputToDevice");
}

void OrtRuntime::ClearBindings(OrtIoBinding* b) const {
  using Fn = void (*)(OrtIoBinding*);
  At<Fn>(kClearBoundInputs)(b);
  At<Fn>(kClearBoundOutputs)(b);
}

void OrtRuntime::RunWithBinding(OrtSession* s, OrtRunOptions* ro, OrtIoBinding* b) const {
  using Fn = OrtStatus* (*)(OrtSession*, const OrtRunOptions*, const OrtIoBinding*);
  Check(At<Fn>(kRunWithBinding)(s, ro, b), "RunWithBinding");
}

std::vector<OrtValue*> OrtRuntime::BoundOutputs(OrtIoBinding* b) const {
  using Fn = OrtStatus* (*)(const OrtIoBinding*, OrtAllocator*, OrtValue***, size_t*);
  using FreeFn = OrtStatus* (*)(OrtAllocator*, void*);
  OrtValue** arr = nullptr;
  size_t n = 0;
  Check(At<Fn>(kGetBoundOutputValues)(b, allocator_, &arr, &n), "GetBoundOutputValues");
  std::vector<OrtValue*> out(arr, arr + n);
  if (arr != nullptr) Check(At<FreeFn>(kAllocatorFree)(allocator_, arr), "AllocatorFree");
  return out;
}

OrtRunOptions* OrtRuntime::CreateRunOptions() const {
  using Fn = OrtStatus* (*)(OrtRunOptions**);
  OrtRunOptions* r = nullptr;
  Check(At<Fn>(kCreateRunOptions)(&r), "CreateRunOptions");
  return r;
}

void OrtRuntime::Terminate(OrtRunOptions* ro, bool on) const {
  using Fn = OrtStatus* (*)(OrtRunOptions*);
  Check(At<Fn>(on ? kRunOptionsSetTerminate : kRunOptionsUnsetTerminate)(ro), "RunOptionsSetTerminate");
}

void OrtRuntime::Release(OrtValue* v) const {
  if (v != nullptr) At<void (*)(OrtValue*)>(kReleaseValue)(v);
}
void OrtRuntime::Release(OrtSession* s) const {
  if (s != nullptr) At<void (*)(OrtSession*)>(kReleaseSession)(s);
}
void OrtRuntime::Release(OrtIoBinding* b) const {
  if (b != nullptr) At<void (*)(OrtIoBinding*)>(kReleaseIoBinding)(b);
}
void OrtRuntime::Release(OrtRunOptions* r) const {
  if (r != nullptr) At<void (*)(OrtRunOptions*)>(kReleaseRunOptions)(r);
}
void OrtRuntime::Release(OrtMemoryInfo* m) const {
  if (m != nullptr) At<void (*)(OrtMemoryInfo*)>(kReleaseMemoryInfo)(m);
}
void OrtRuntime::Release(OrtAllocator* a) const {
  if (a != nullptr) At<void (*)(OrtAllocator*)>(kReleaseAllocator)(a);
}

}  // namespace omnicap
