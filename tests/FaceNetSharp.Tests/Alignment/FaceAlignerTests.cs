using System.Numerics;
using FaceNetSharp.Alignment;
using FaceNetSharp.Detection;
using FaceNetSharp.Imaging;

namespace FaceNetSharp.Tests.Alignment;

public sealed class FaceAlignerTests
{
    [Fact]
    public void CropRegionFollowsFacenetIntegerClipping()
    {
        // 100x70 image, margin 32: x1 = max(10.7 - 16, 0) = 0; y1 = int(36.2 - 16) = 20; x2 = int(min(50.9 + 16, 100)) = 66;
        // y2 = min(60.6 + 16, 70) = 70.
        var r = FaceAligner.CropRegion(new FaceBox(10.7f, 36.2f, 50.9f, 60.6f), 32, 100, 70);
        Assert.Equal(new PixelRect(0, 20, 66, 50), r);
    }

    [Fact]
    public void CropIsResizedToImageSizeWithoutKeepingAspect()
    {
        // Left half 50, right half 200; a crop covering columns 0..39 of 80, rows all, comes out square.
        var px = new byte[80 * 20 * 3];
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 80; x++)
                px[(y * 80 + x) * 3] = px[(y * 80 + x) * 3 + 1] = px[(y * 80 + x) * 3 + 2] = x < 40 ? (byte)50 : (byte)200;
        var img = new RgbImage(80, 20, px);
        var aligner = new FaceAligner(new FaceAlignerOptions { Mode = AlignmentMode.Crop, ImageSize = 16, Margin = 0 });
        var chip = aligner.Align(img, new DetectedFace(new FaceBox(0, 0, 40, 20), 1f, new Vector2[5]));
        Assert.Equal((16, 16), (chip.Width, chip.Height));
        Assert.All(chip.Pixels, v => Assert.Equal(50, v));
    }

    [Fact]
    public void BoxOutsideImageIsRefused()
    {
        var img = new RgbImage(10, 10, new byte[300]);
        var aligner = new FaceAligner(FaceAlignerOptions.FacenetCrop160);
        Assert.Throws<ArgumentException>(() => aligner.Crop(img, new FaceBox(100, 100, 120, 120)));
    }

    [Fact]
    public void WarpPutsLandmarksOnTheTemplate()
    {
        // A synthetic image with bright dots at known landmark positions; after the warp each dot must be at its
        // template point (the transform is exact because the landmarks are a similarity image of the template).
        var template = AlignmentTemplates.Points(AlignmentTemplate.ArcFace112);
        var toImage = new SimilarityTransform(1.5 * Math.Cos(0.3), 1.5 * Math.Sin(0.3), 60, 20);
        var landmarks = template.Select(toImage.Apply).ToArray();
        var px = new byte[250 * 250 * 3];
        foreach (var p in landmarks)
        {
            int cx = (int)MathF.Round(p.X), cy = (int)MathF.Round(p.Y);
            for (int y = cy - 2; y <= cy + 2; y++)
                for (int x = cx - 2; x <= cx + 2; x++)
                    px[(y * 250 + x) * 3] = 255;
        }
        var chip = new FaceAligner().Warp(new RgbImage(250, 250, px), landmarks);
        Assert.Equal((112, 112), (chip.Width, chip.Height));
        foreach (var t in template)
        {
            int i = ((int)MathF.Round(t.Y) * 112 + (int)MathF.Round(t.X)) * 3;
            Assert.True(chip.Pixels[i] > 200, $"no dot at template point {t}");
        }
    }

    [Fact]
    public void OutputSizeDefaultsAndScaledTemplate()
    {
        Assert.Equal(160, FaceAlignerOptions.FacenetCrop160.OutputSize);
        Assert.Equal(112, FaceAlignerOptions.ArcFace112.OutputSize);
        Assert.Equal(150, FaceAlignerOptions.Dlib150.OutputSize);
        var scaled = AlignmentTemplates.Points(AlignmentTemplate.ArcFace112, 224);
        Assert.Equal(38.2946f * 2, scaled[0].X, 4);
    }
}
