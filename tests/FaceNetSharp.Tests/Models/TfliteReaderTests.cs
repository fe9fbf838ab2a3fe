using FaceNetSharp.Models.Conversion.Tflite;

namespace FaceNetSharp.Tests.Models;

/// <summary>Model-free checks of the TFLite reader and the layout helper the converter uses.</summary>
public sealed class TfliteReaderTests
{
    [Fact]
    public void RejectsAFileWithoutTheTfliteIdentifier()
    {
        var e = Assert.Throws<InvalidDataException>(() => TfliteFile.Read(new byte[64]));
        Assert.Contains("TFL3", e.Message);
    }

    [Fact]
    public void PermuteMovesAxes()
    {
        // A [2,3] matrix transposed: [[0,1,2],[3,4,5]] -> [[0,3],[1,4],[2,5]].
        var (data, shape) = TfliteToOnnx.Permute([0, 1, 2, 3, 4, 5], [2, 3], [1, 0]);
        Assert.Equal([3L, 2L], shape);
        Assert.Equal([0f, 3, 1, 4, 2, 5], data);

        // OHWI [1,2,3,1] -> OIHW with H/W swapped (perm 0,3,2,1): element (0,h,w,0) lands at (0,0,w,h).
        var ohwi = Enumerable.Range(0, 6).Select(i => (float)i).ToArray(); // value = h*3 + w
        var (swapped, swappedShape) = TfliteToOnnx.Permute(ohwi, [1, 2, 3, 1], [0, 3, 2, 1]);
        Assert.Equal([1L, 1L, 3L, 2L], swappedShape);
        for (int h = 0; h < 2; h++)
            for (int w = 0; w < 3; w++)
                Assert.Equal(h * 3 + w, swapped[w * 2 + h]);
    }
}
