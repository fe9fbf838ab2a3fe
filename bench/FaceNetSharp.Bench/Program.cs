using FaceNetSharp.Bench;
using FaceNetSharp.Models;

// The benchmarks install the default models on first use, as the CLI does.
ModelInstaller.UseAsDefault();

// dotnet run -c Release --project bench/FaceNetSharp.Bench -- <benchmark> [options]
var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["model-check"] = ModelCheckBenchmark.Run,
    ["align"] = AlignBenchmark.Run,
    ["detect-alloc"] = DetectAllocBenchmark.Run,
    ["mtcnn-golden"] = MtcnnGoldenBenchmark.Run,
    ["embed"] = EmbedBenchmark.Run,
    ["gallery"] = GalleryBenchmark.Run,
    ["operating-points"] = OperatingPointsBenchmark.Run,
    ["int8"] = Int8Benchmark.Run,
    ["int8-sweep"] = Int8SweepBenchmark.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: FaceNetSharp.Bench <{string.Join("|", benchmarks.Keys)}> [options]");
    Console.Error.WriteLine("  model-check [rounds (7)]");
    Console.Error.WriteLine("  align [images (200)]");
    Console.Error.WriteLine("  detect-alloc IMAGE [calls (10)]   (scripts/detection-memory.sh runs it with the memory figures)");
    Console.Error.WriteLine("  mtcnn-golden [Area|PilBox] [shared data folder (../shared/data)]");
    Console.Error.WriteLine("  embed [faces per measurement (256)]");
    Console.Error.WriteLine("  operating-points [--data ../shared/data/faces] [--models mobilefacenet,dlib] [--out src/FaceNetSharp/Models/Calibration] [--workers N]");
    Console.Error.WriteLine("  int8 [--data ../shared/data/faces] [--models mobilefacenet,dlib-resnet] [--methods minmax,percentile] [--faces 256] [--no-accuracy] [--threads N] [--rounds 3] [--compare INT8.onnx] [--quick] [--float-tail N] [--float-prelu] [--profile] [--write src/FaceNetSharp.Models/Quantization]");
    Console.Error.WriteLine("  int8-sweep [--model mobilefacenet] [--data ../shared/data/faces] [--per 4] [--layers] [--float CONV,CONV] [--method minmax|percentile|mse] [--jitter N] [--equalize A,B] [--float-activations T,T] [--activations K,K] [--bias-correct N,N] [--save FILE] [--build FILE] [--ops FILE] [--dump]");
    Console.Error.WriteLine("  gallery [--sizes 100000,1000000] [--queries 1000] [--rounds 3] [--anchor-queries 200] [--exact-queries N] [--candidates 64] [--threads N] [--scalar] [--global-scale S] [--python /usr/bin/python3|none] [--real EMBEDDINGS.npy] [--load-size 0] [--seed 1]");
    return 2;
}
return run(args[1..]);
