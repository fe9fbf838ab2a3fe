using System.Text.Json;
using FaceNetSharp.Models;
using FaceNetSharp.Models.Conversion.Dlib;
using FaceNetSharp.Models.Npm;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;
using Xunit.Abstractions;

namespace FaceNetSharp.Tests.Models.Dlib;

/// <summary>
/// Fetches the pinned face-api package once, converts its face recognition net and opens one ONNX Runtime session
/// shared by the parity tests. A failure to fetch (no npm, no network) is kept and reported as a skip.
/// </summary>
public sealed class DlibResNetFixture : IDisposable
{
    public static readonly string PackageSpec = ModelCatalog.FaceApi.Spec;   // the pin the installer uses
    public const string ManifestEntry = "package/model/face_recognition_model-weights_manifest.json";
    public const string WeightsEntry = "package/model/face_recognition_model.bin";
    // SHA-256 of the two files in that package version (docs/MODELS.md and the task brief).
    public const string ManifestSha256 = "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b";
    public const string WeightsSha256 = "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589";

    private readonly string _tempDir = Path.Combine(Path.GetTempPath(), "facenet-dlib-" + Guid.NewGuid().ToString("N"));

    public InferenceSession? Session { get; }
    public string? Unavailable { get; }
    public string ManifestHash { get; } = "";
    public string WeightsHash { get; } = "";

    public DlibResNetFixture()
    {
        Dictionary<string, byte[]> files;
        try
        {
            var tgz = NpmPackage.Pack(PackageSpec, _tempDir);
            files = NpmPackage.ReadEntries(tgz, [ManifestEntry, WeightsEntry]);
        }
        catch (ModelInstallException e)
        {
            Unavailable = $"cannot fetch {PackageSpec}: {e.Message}";
            return;
        }
        ManifestHash = files.TryGetValue(ManifestEntry, out var m) ? NpmPackage.Sha256(m) : "(missing)";
        WeightsHash = files.TryGetValue(WeightsEntry, out var w) ? NpmPackage.Sha256(w) : "(missing)";
        // A wrong file is reported by the tests' hash assertions, not by a conversion error.
        if (ManifestHash != ManifestSha256 || WeightsHash != WeightsSha256) return;

        var onnx = DlibResNetConverter.Convert(m!, w!);
        using var options = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        Session = new InferenceSession(onnx, options);
    }

    public void Dispose()
    {
        Session?.Dispose();
        try { Directory.Delete(_tempDir, recursive: true); } catch (IOException) { }
    }
}

public sealed class DlibResNetParityTests(DlibResNetFixture fx, ITestOutputHelper output) : IClassFixture<DlibResNetFixture>
{
    // Golden: face-api.js on tfjs, same chips (pipeline_hopkins.json, key faceapi_dlib_128).
    // Tolerance: per-descriptor Euclidean distance; descriptors have norm ~1.45 and same-person distances ~0.4.
    // 1e-4 rather than 1e-3: dividing the input by 256 (face-api.js) instead of 255 (the golden's normalisation)
    // moves the descriptors by just under 1e-3, so a looser bound could not tell the two apart.
    private const double DescriptorTolerance = 1e-4;

    private InferenceSession Session()
    {
        Skip.If(fx.Unavailable is not null, fx.Unavailable);
        Assert.Equal(DlibResNetFixture.ManifestSha256, fx.ManifestHash);
        Assert.Equal(DlibResNetFixture.WeightsSha256, fx.WeightsHash);
        return fx.Session!;
    }

    private static (string[] Inputs, float[][] Descriptors, double Euclidean) Golden()
    {
        var path = TestPaths.Shared("golden", "pipeline_hopkins.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var g = doc.RootElement.GetProperty("faceapi_dlib_128");
        var inputs = g.GetProperty("inputs").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var desc = g.GetProperty("descriptors").EnumerateArray()
            .Select(v => v.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        return (inputs, desc, g.GetProperty("euclidean").GetDouble());
    }

    /// <summary>Decodes a 150x150 chip into NCHW RGB with the model's normalisation.</summary>
    private static float[] LoadChip(string path)
    {
        using var bmp = SKBitmap.Decode(path) ?? throw new InvalidDataException("cannot decode " + path);
        int n = DlibResNetConverter.InputSize;
        Assert.Equal(n, bmp.Width);
        Assert.Equal(n, bmp.Height);
        var mean = DlibResNetConverter.MeanRgb;
        var data = new float[3 * n * n];
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                var c = bmp.GetPixel(x, y);
                int i = y * n + x;
                data[i] = (c.Red - mean[0]) / DlibResNetConverter.InputScale;
                data[n * n + i] = (c.Green - mean[1]) / DlibResNetConverter.InputScale;
                data[2 * n * n + i] = (c.Blue - mean[2]) / DlibResNetConverter.InputScale;
            }
        return data;
    }

    private static float[][] Run(InferenceSession session, params float[][] chips)
    {
        int n = DlibResNetConverter.InputSize;
        var batch = new float[chips.Length * 3 * n * n];
        for (int i = 0; i < chips.Length; i++) chips[i].CopyTo(batch, i * 3 * n * n);
        var input = new DenseTensor<float>(batch, [chips.Length, 3, n, n]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var output = results.Single(r => r.Name == "embedding").AsTensor<float>();
        Assert.Equal([chips.Length, DlibResNetConverter.EmbeddingSize], output.Dimensions.ToArray());
        var flat = output.ToArray();
        return Enumerable.Range(0, chips.Length)
            .Select(i => flat.AsSpan(i * DlibResNetConverter.EmbeddingSize, DlibResNetConverter.EmbeddingSize).ToArray())
            .ToArray();
    }

    private static double Distance(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)(a[i] - b[i]) * (a[i] - b[i]);
        return Math.Sqrt(s);
    }

    [SkippableFact]
    public void Descriptors_match_face_api_golden()
    {
        var (inputs, golden, euclidean) = Golden();
        var session = Session();
        var chips = inputs.Select(name => LoadChip(TestPaths.Shared("golden", name))).ToArray();

        var got = Run(session, chips);

        for (int i = 0; i < got.Length; i++)
        {
            var d = Distance(got[i], golden[i]);
            output.WriteLine($"{inputs[i]}: distance to golden {d:G6}");
            Assert.True(d < DescriptorTolerance, $"{inputs[i]}: distance to golden {d:G6} >= {DescriptorTolerance}");
        }
        var pair = Distance(got[0], got[1]);
        output.WriteLine($"pair distance {pair:G6} (golden {euclidean:G6})");
        Assert.True(Math.Abs(pair - euclidean) < 2e-3, $"pair distance {pair:G6}, golden {euclidean:G6}");
    }

    [SkippableFact]
    public void Batch_of_two_equals_two_batches_of_one()
    {
        var (inputs, _, _) = Golden();
        var session = Session();
        var chips = inputs.Select(name => LoadChip(TestPaths.Shared("golden", name))).ToArray();

        var both = Run(session, chips);
        for (int i = 0; i < chips.Length; i++)
        {
            var single = Run(session, chips[i])[0];
            output.WriteLine($"{inputs[i]}: batched vs single {Distance(both[i], single):G6}");
            Assert.True(Distance(both[i], single) < 1e-5, $"{inputs[i]}: batched and single runs differ by {Distance(both[i], single):G6}");
        }
    }
}
