using FaceNetSharp.Bench;

<<<<<<< HEAD
// Each benchmark is chosen by the first argument; the rest are its options.
var benchmarks = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["gallery"] = GalleryBenchmark.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: FaceNetSharp.Bench <{string.Join("|", benchmarks.Keys)}> [options]");
    Console.Error.WriteLine("  gallery [--sizes 1000,10000,100000,1000000] [--dims 192] [--queries 200] [--load-size 100000] [--seed 1]");
=======
// dotnet run -c Release --project bench/FaceNetSharp.Bench -- <benchmark> [args]
var benchmarks = new Dictionary<string, Func<string[], int>>
{
    ["align"] = AlignBenchmark.Run,
    ["embed"] = EmbedBenchmark.Run,
};
if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: FaceNetSharp.Bench <{string.Join("|", benchmarks.Keys)}> [args]");
>>>>>>> main
    return 2;
}
return run(args[1..]);
