namespace FaceNetSharp.Alignment;

/// <summary>How <see cref="FaceAligner"/> cuts a face out of a photo.</summary>
public enum AlignmentMode
{
    /// <summary>
    /// facenet's <c>align_dataset_mtcnn.py</c>: the detector box widened by <see cref="FaceAlignerOptions.Margin"/>/2
    /// pixels on each side, clipped to the image, cut out and resized to a square (aspect ratio not kept).
    /// No rotation. For facenet Inception-ResNet-v1 models.
    /// </summary>
    Crop,

    /// <summary>
    /// A least-squares similarity (rotation, uniform scale, translation) from the five landmarks onto a
    /// <see cref="AlignmentTemplate"/>, then a bilinear warp. For ArcFace-style and dlib models.
    /// </summary>
    Similarity,
}

/// <summary>Options of <see cref="FaceAligner"/>.</summary>
public sealed record FaceAlignerOptions
{
    /// <summary>Crop chip size used when <see cref="ImageSize"/> is null: 160, the input of facenet's
    /// Inception-ResNet-v1 (facenet wiki "Validate on LFW": <c>--image_size 160 --margin 32</c>).</summary>
    public const int DefaultCropSize = 160;

    /// <summary>Default crop margin in pixels: 32 (facenet wiki "Validate on LFW"; the script's own default is 44,
    /// for 182-pixel training chips that are then randomly cropped to 160).</summary>
    public const int DefaultMargin = 32;

    /// <summary>facenet crop alignment, 160x160, margin 32.</summary>
    public static FaceAlignerOptions FacenetCrop160 { get; } = new() { Mode = AlignmentMode.Crop };

    /// <summary>Similarity alignment onto the ArcFace template, 112x112.</summary>
    public static FaceAlignerOptions ArcFace112 { get; } = new() { Template = AlignmentTemplate.ArcFace112 };

    /// <summary>Similarity alignment onto the dlib template, 150x150.</summary>
    public static FaceAlignerOptions Dlib150 { get; } = new() { Template = AlignmentTemplate.Dlib150 };

    /// <summary>Crop or similarity warp. Default: <see cref="AlignmentMode.Similarity"/>.</summary>
    public AlignmentMode Mode { get; init; } = AlignmentMode.Similarity;

    /// <summary>Template for <see cref="AlignmentMode.Similarity"/>. Default: ArcFace-112.</summary>
    public AlignmentTemplate Template { get; init; } = AlignmentTemplate.ArcFace112;

    /// <summary>
    /// Side of the square output chip, in pixels. Null: <see cref="DefaultCropSize"/> for Crop, the template's native
    /// size (112 or 150) for Similarity. Another size in Similarity mode scales the template by size / native size.
    /// </summary>
    public int? ImageSize { get; init; }

    /// <summary>Crop mode only: total margin in pixels added to the box width and height (half on each side),
    /// in original image pixels.</summary>
    public int Margin { get; init; } = DefaultMargin;

    /// <summary>The side of the output chip that these options produce, in pixels.</summary>
    public int OutputSize => ImageSize ?? (Mode == AlignmentMode.Crop ? DefaultCropSize : AlignmentTemplates.NativeSize(Template));
}
