using FaceNetSharp.Bench;

// dotnet run -c Release --project bench/FaceNetSharp.Bench -- <benchmark> [args]
var benchmarks = new Dictionary<string, Func<string[], int>>
{
    ["align"] = AlignBenchmark.Run,
    ["embed"] = EmbedBenchmark.Run,
};
if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: FaceNetSharp.Bench <{string.Join("|", benchmarks.Keys)}> [args]");
    return 2;
}
return run(args[1..]);
