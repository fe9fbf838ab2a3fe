using System.Text.Json;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;
using FaceNetSharp.Models;

namespace FaceNetSharp.Bench;

/// <summary>
/// <c>mtcnn-golden [Area|PilBox] [SHARED_DATA]</c>: agreement of the detector with
/// ../shared/data/golden/mtcnn_facenet_opencv.json (facenet's detect_face.py with OpenCV 4.6): photos whose faces all
/// agree within 0.01 px and within 1 px (box corners and landmarks, in facenet's order), photos with another face count,
/// and the worst difference. The figures of issue 10; MtcnnFacenetGoldenTests asserts them.
/// </summary>
internal static class MtcnnGoldenBenchmark
{
    public static int Run(string[] args)
    {
        var resampling = args.Length > 0 ? Enum.Parse<MtcnnResampling>(args[0], ignoreCase: true) : MtcnnResampling.Area;
        string data = args.Length > 1 ? args[1] : Path.Combine("..", "shared", "data");
        string golden = Path.Combine(data, "golden", "mtcnn_facenet_opencv.json");
        if (!File.Exists(golden))
        {
            Console.Error.WriteLine($"{golden} not found (pass the shared data folder)");
            return 2;
        }
        var images = JsonDocument.Parse(File.ReadAllText(golden)).RootElement.GetProperty("images");
        using var detector = MtcnnDetector.FromStore(new ModelStore(), new MtcnnOptions { Resampling = resampling });
        int photos = 0, withFaces = 0, within001 = 0, within1 = 0, countMismatch = 0;
        double worst = 0;
        string worstFile = "";
        foreach (var entry in images.EnumerateArray())
        {
            string file = entry.GetProperty("file").GetString()!;
            var expected = entry.GetProperty("faces").EnumerateArray().ToList();
            var faces = detector.Detect(ImageLoader.Load(Path.Combine(data, "faces", file)));
            photos++;
            if (expected.Count > 0) withFaces++;
            if (faces.Count != expected.Count)
            {
                countMismatch++;
                Console.WriteLine($"  {file}: {faces.Count} faces, facenet {expected.Count}");
                continue;
            }
            double d = 0;
            for (int i = 0; i < faces.Count; i++)
            {
                var box = expected[i].GetProperty("box").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                var points = expected[i].GetProperty("landmarks").EnumerateArray().SelectMany(p => p.EnumerateArray().Select(e => e.GetDouble())).ToArray();
                var f = faces[i];
                double[] fb = [f.Box.X1, f.Box.Y1, f.Box.X2, f.Box.Y2];
                for (int k = 0; k < 4; k++) d = Math.Max(d, Math.Abs(fb[k] - box[k]));
                for (int k = 0; k < 5; k++)
                    d = Math.Max(d, Math.Max(Math.Abs(f.Landmarks[k].X - points[2 * k]), Math.Abs(f.Landmarks[k].Y - points[2 * k + 1])));
            }
            if (d <= 0.01) within001++;
            if (d <= 1) within1++;
            if (d > worst) (worst, worstFile) = (d, file);
        }
        Console.WriteLine($"mtcnn-golden {resampling}: {photos} photos ({withFaces} with faces): {within001} within 0.01 px, {within1} within 1 px, " +
                          $"{countMismatch} with another face count; worst {worst:F4} px among the others ({worstFile})");
        return 0;
    }
}
