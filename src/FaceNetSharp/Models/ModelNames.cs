namespace FaceNetSharp.Models;

/// <summary>Names of the models FaceNetSharp can install; a model's file is <c>NAME.onnx</c> in the model store.</summary>
public static class ModelNames
{
    /// <summary>MTCNN proposal net: input [N,3,H,W] any size; outputs "reg" [N,4,H',W'], "prob" [N,2,H',W'].</summary>
    public const string MtcnnPNet = "mtcnn-pnet";

    /// <summary>MTCNN refine net: input [N,3,24,24]; outputs "prob" [N,2], "reg" [N,4].</summary>
    public const string MtcnnRNet = "mtcnn-rnet";

    /// <summary>MTCNN output net: input [N,3,48,48]; outputs "prob" [N,2], "reg" [N,4], "landmarks" [N,10].</summary>
    public const string MtcnnONet = "mtcnn-onet";

    /// <summary>MobileFaceNet, 112x112 RGB in, 192-d raw embedding out.</summary>
    public const string MobileFaceNet = "mobilefacenet";

    /// <summary>dlib's ResNet-29 face descriptor (face-api.js port), 150x150 RGB in, 128-d raw descriptor out.</summary>
    public const string DlibResNet = "dlib-resnet";

    /// <summary>Every installable model, in install order.</summary>
    public static IReadOnlyList<string> All { get; } = [MtcnnPNet, MtcnnRNet, MtcnnONet, MobileFaceNet, DlibResNet];

    /// <summary>The three MTCNN stages.</summary>
    public static IReadOnlyList<string> Mtcnn { get; } = [MtcnnPNet, MtcnnRNet, MtcnnONet];
}
