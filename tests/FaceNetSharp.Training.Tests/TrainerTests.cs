using System.Buffers.Binary;
using System.Text;
using FaceNetSharp.Embedding;
using FaceNetSharp.Models;
using FaceNetSharp.Recognition;
using FaceNetSharp.Training.Data;
using FaceNetSharp.Training.Export;
using FaceNetSharp.Training.Logging;
using FaceNetSharp.Training.Networks;
using FaceNetSharp.Training.Runs;
using Google.Protobuf;
using TorchSharp;
using static TorchSharp.torch;

namespace FaceNetSharp.Training.Tests;

public sealed class TensorBoardWriterTests
{
    [Fact]
    public void Crc32C_of_123456789_is_the_check_value() =>
        // The standard CRC-32C check value (RFC 3720 / the Castagnoli catalogue): CRC of ASCII "123456789".
        Assert.Equal(0xE3069283u, TensorBoardWriter.Crc32C("123456789"u8));

    [Fact]
    public void Event_file_records_are_framed_with_masked_crcs_and_decode_to_the_scalars()
    {
        var dir = Directory.CreateTempSubdirectory("fns-tb-");
        try
        {
            string file;
            using (var w = new TensorBoardWriter(dir.FullName))
            {
                w.Scalars(7, ("loss", 1.5f), ("accuracy", 0.25f));
                file = w.FilePath;
            }
            Assert.StartsWith("events.out.tfevents.", Path.GetFileName(file));
            var bytes = File.ReadAllBytes(file);
            var records = new List<byte[]>();
            for (int pos = 0; pos < bytes.Length;)
            {
                ulong len = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(pos));
                uint lenCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 8));
                Assert.Equal(Mask(TensorBoardWriter.Crc32C(bytes.AsSpan(pos, 8))), lenCrc);
                var data = bytes.AsSpan(pos + 12, (int)len).ToArray();
                Assert.Equal(Mask(TensorBoardWriter.Crc32C(data)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(pos + 12 + (int)len)));
                records.Add(data);
                pos += 16 + (int)len;
            }
            Assert.Equal(2, records.Count);
            Assert.Contains("brain.Event:2", Encoding.UTF8.GetString(records[0]));
            // Event{1: wall_time, 2: step, 5: Summary{1: Value{1: tag, 2: simple_value}}}
            var input = new CodedInputStream(records[1]);
            long step = -1;
            var scalars = new Dictionary<string, float>();
            for (uint tag; (tag = input.ReadTag()) != 0;)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: Assert.True(input.ReadDouble() > 1.6e9); break;
                    case 2: step = input.ReadInt64(); break;
                    case 5:
                        var summary = new CodedInputStream(input.ReadBytes().ToByteArray());
                        while (summary.ReadTag() != 0)
                        {
                            var value = new CodedInputStream(summary.ReadBytes().ToByteArray());
                            string name = ""; float v = float.NaN;
                            for (uint t; (t = value.ReadTag()) != 0;)
                                if (WireFormat.GetTagFieldNumber(t) == 1) name = value.ReadString(); else v = value.ReadFloat();
                            scalars[name] = v;
                        }
                        break;
                    default: input.SkipLastField(); break;
                }
            }
            Assert.Equal(7, step);
            Assert.Equal(1.5f, scalars["loss"]);
            Assert.Equal(0.25f, scalars["accuracy"]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // tensorflow crc32c::Mask, written out again here independently of the writer.
    private static uint Mask(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

public sealed class TrainerTests
{
    public TrainerTests() => TorchTest.Init();

    /// <summary>A small dataset: <paramref name="people"/> people x <paramref name="images"/> chips of kz-celebs-talgin, copied, plus one unreadable file.</summary>
    internal static string SmallDataset(DirectoryInfo root, int people, int images)
    {
        var source = TorchTest.Shared("faces", "kz-celebs-talgin", "our_dataset");
        var data = Path.Combine(root.FullName, "data");
        foreach (var dir in Directory.GetDirectories(source).Order(StringComparer.Ordinal).Take(people))
        {
            var target = Directory.CreateDirectory(Path.Combine(data, Path.GetFileName(dir))).FullName;
            foreach (var f in Directory.GetFiles(dir).Order(StringComparer.Ordinal).Take(images))
                File.Copy(f, Path.Combine(target, Path.GetFileName(f)));
        }
        File.WriteAllText(Path.Combine(Directory.GetDirectories(data).Order(StringComparer.Ordinal).First(), "broken.png"), "not an image");
        return data;
    }

    /// <summary>
    /// The exported network tells people apart: the mean cosine between the first images of different people stays well
    /// below 1. Before the batch-norm statistics were re-estimated, a short run from scratch exported a network whose
    /// vectors all pointed the same way (this test then read a mean cosine of 1.0000; see BatchNormStatistics).
    /// </summary>
    internal static void AssertNotCollapsed(IFaceEmbedder embedder, string data)
    {
        var faces = Directory.GetDirectories(data).Order(StringComparer.Ordinal)
            .Select(d => FaceNetSharp.Imaging.ImageLoader.Load(Directory.GetFiles(d, "*.png").Order(StringComparer.Ordinal).First())).ToArray();
        var e = embedder.Embed(faces);
        double sum = 0;
        int n = 0;
        for (int i = 0; i < e.Length; i++)
            for (int j = i + 1; j < e.Length; j++, n++)
                sum += System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(e[i], e[j]);
        Assert.True(sum / n < 0.9, $"mean cosine between different people {sum / n:F4}: the exported embeddings collapsed");
    }

    internal static string Pairs(string data, string root)
    {
        // same-person pairs use images 1..10, different pairs mix people: 10 + 10 pairs
        var pairs = Path.Combine(root, "pairs.txt");
        var people = Directory.GetDirectories(data).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var lines = new List<string>();
        for (int i = 0; i < 10; i++) lines.Add($"{people[i % people.Length]}\t{1 + i / 5}\t{3 + i / 5}");
        for (int i = 0; i < 10; i++) lines.Add($"{people[i % people.Length]}\t{1 + i / 5}\t{people[(i + 1) % people.Length]}\t{2 + i / 5}");
        File.WriteAllLines(pairs, lines);
        return pairs;
    }

    [SkippableFact]
    public void Triplet_run_selects_triplets_trains_checkpoints_and_exports()
    {
        var root = Directory.CreateTempSubdirectory("fns-triplet-");
        try
        {
            var data = SmallDataset(root, 5, 10);
            var options = new TrainingOptions
            {
                Mode = TrainingMode.Triplet,
                DataDir = data,
                ModelDef = ModelDefinition.MobileFaceNet,
                ImageSize = 112,
                EmbeddingSize = 32,
                BatchSize = 12,
                EpochSize = 3,
                MaxNrofEpochs = 2,
                PeoplePerBatch = 5,
                ImagesPerPerson = 4,
                Alpha = 0.2,
                Optimizer = OptimizerKind.Adam,
                LearningRate = 0.001,
                UseFixedImageStandardization = true,
                LfwDir = data,
                LfwPairs = Pairs(data, root.FullName),
                LfwNrofFolds = 2,
                LogsBaseDir = Path.Combine(root.FullName, "logs"),
                ModelsBaseDir = Path.Combine(root.FullName, "models"),
                Seed = 2,
            };
            var result = FaceTrainer.Run(options);
            Assert.Equal([1, 2], result.Epochs.Select(e => e.Epoch));
            foreach (var e in result.Epochs)
            {
                Assert.True(double.IsFinite(e.Loss) && e.Loss >= 0, $"epoch {e.Epoch} loss {e.Loss}");
                Assert.InRange(e.Accuracy, 0, 1);
                Assert.NotNull(e.LfwAccuracy);
            }
            Assert.True(result.Epochs[^1].GlobalStep > 0);
            Assert.True(File.Exists(Path.Combine(result.ModelDirectory, "checkpoint-0002", "model.dat")));
            Assert.False(File.Exists(Path.Combine(result.ModelDirectory, "checkpoint-0002", "head.dat")));   // no classifier in triplet training
            using var embedder = Embedders.Open(new ModelStore(Path.Combine(root.FullName, "store")), result.OnnxPath);
            Assert.Equal(32, embedder.Info.Dimensions);
            AssertNotCollapsed(embedder, data);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void ArcFace_run_with_moving_averages_learns_and_exports_the_averages()
    {
        var root = Directory.CreateTempSubdirectory("fns-arcface-");
        try
        {
            var data = SmallDataset(root, 4, 6);
            var options = new TrainingOptions
            {
                DataDir = data,
                ModelDef = ModelDefinition.MobileFaceNet,
                ImageSize = 112,
                EmbeddingSize = 32,
                BatchSize = 12,
                EpochSize = 4,
                MaxNrofEpochs = 3,
                Loss = ClassifierLoss.ArcFace,
                ArcFaceScale = 16,
                ArcFaceMargin = 0.3,
                Optimizer = OptimizerKind.Adam,
                LearningRate = 0.01,
                UseFixedImageStandardization = true,
                UseMovingAverages = true,
                MovingAverageDecay = 0.9,
                LogsBaseDir = Path.Combine(root.FullName, "logs"),
                ModelsBaseDir = Path.Combine(root.FullName, "models"),
                Seed = 3,
            };
            var result = FaceTrainer.Run(options);
            var losses = result.Epochs.Select(e => e.Loss).ToArray();
            Assert.True(losses[^1] < 0.8 * losses[0], "ArcFace loss per epoch: " + string.Join(", ", losses));
            var last = Path.Combine(result.ModelDirectory, "checkpoint-0003");
            Assert.True(File.Exists(Path.Combine(last, Checkpoint.AveragedModelFile)));
            Assert.True(File.Exists(Path.Combine(last, Checkpoint.AveragedHeadFile)));
            Assert.Empty(Directory.GetDirectories(result.ModelDirectory, ".averaged-*"));
            // the final export is the last checkpoint's averaged network; --raw exports the last weights instead
            var again = FaceTrainer.Export(last, Path.Combine(root.FullName, "again.onnx"));
            var raw = FaceTrainer.Export(last, Path.Combine(root.FullName, "raw.onnx"), raw: true);
            var store = new ModelStore(Path.Combine(root.FullName, "store"));
            using var final = Embedders.Open(store, result.OnnxPath);
            using var averaged = Embedders.Open(store, again);
            using var trained = Embedders.Open(store, raw);
            var face = FaceNetSharp.Imaging.ImageLoader.Load(Directory.GetFiles(Directory.GetDirectories(data).Order(StringComparer.Ordinal).First(), "*.png").Order(StringComparer.Ordinal).First());
            var (f, a, t) = (final.Embed([face])[0], averaged.Embed([face])[0], trained.Embed([face])[0]);
            Assert.True(System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(f, a) > 0.99999f);
            Assert.True(System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(f, t) < 0.9999f, "the averages should differ from the last weights");
            AssertNotCollapsed(final, data);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void Overfitting_one_batch_drives_the_loss_down()
    {
        var root = Directory.CreateTempSubdirectory("fns-overfit-");
        try
        {
            var classes = FaceDataset.Load(SmallDataset(root, 4, 2));
            manual_seed(5);
            using var scope = NewDisposeScope();
            using var net = new MobileFaceNet(new MobileFaceNetOptions(EmbeddingSize: 64));
            using var head = new ClassifierHead(classes.Count, 64, ClassifierLoss.Softmax, 64, 0.5, 0.95);
            using var opt = optim.Adam(net.parameters().Concat(head.parameters()), 1e-3);
            var stream = new ImageStream(classes, 112, ImageStandardization.Fixed, Augmentation.None);
            var pixels = new float[8 * 3 * 112 * 112];
            var labels = stream.Next(8, pixels);
            Assert.Equal(1, stream.UnreadableCount);
            var x = tensor(pixels, [8, 3, 112, 112]);
            var y = tensor(labels);
            var losses = new List<float>();
            net.train();
            for (int i = 0; i < 30; i++)
            {
                using var step = NewDisposeScope();
                var (logits, _) = head.Forward(net.forward(x), y);
                var loss = nn.functional.cross_entropy(logits, y);
                opt.zero_grad();
                loss.backward();
                opt.step();
                losses.Add(loss.item<float>());
            }
            Assert.True(losses[^1] < 0.1 * losses[0], $"loss {losses[0]} -> {losses[^1]}");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [SkippableFact]
    public void Short_run_learns_writes_a_run_folder_and_resumes_at_the_next_epoch()
    {
        var root = Directory.CreateTempSubdirectory("fns-train-");
        try
        {
            var data = SmallDataset(root, 5, 20);
            var pairs = Pairs(data, root.FullName);
            var options = new TrainingOptions
            {
                DataDir = data,
                ModelDef = ModelDefinition.MobileFaceNet,
                ImageSize = 112,
                EmbeddingSize = 64,
                BatchSize = 20,
                EpochSize = 5,
                MaxNrofEpochs = 2,
                Optimizer = OptimizerKind.Adam,
                LearningRate = 0.01,
                UseFixedImageStandardization = true,
                RandomFlip = true,
                ValidationSetSplitRatio = 0.1,
                ValidateEveryNEpochs = 1,
                LfwDir = data,
                LfwPairs = pairs,
                LfwNrofFolds = 2,
                LfwDistanceMetric = 1,
                LogsBaseDir = Path.Combine(root.FullName, "logs"),
                ModelsBaseDir = Path.Combine(root.FullName, "models"),
                Seed = 1,
            };
            var lines2 = new List<string>();
            var first = FaceTrainer.Run(options, new Progress<string>(lines2.Add));
            Assert.Equal([1, 2], first.Epochs.Select(e => e.Epoch));
            Assert.Equal(1, first.UnreadableImages);
            Assert.Matches(@"^\d{8}-\d{6}$", first.RunName);
            Assert.Single(Directory.GetFiles(first.LogDirectory, "events.out.tfevents.*"));
            Assert.True(File.Exists(Path.Combine(first.LogDirectory, "arguments.txt")));
            Assert.True(Directory.Exists(Path.Combine(first.ModelDirectory, "checkpoint-0001")));
            Assert.True(File.Exists(Path.Combine(first.ModelDirectory, "checkpoint-0002", "optimizer.dat")));
            Assert.NotNull(first.Epochs[^1].LfwAccuracy);
            Assert.NotNull(first.Epochs[^1].ValidationAccuracy);

            var resumed = FaceTrainer.Run(null, null, first.ModelDirectory, maxEpochsOverride: 3);
            Assert.Equal([3], resumed.Epochs.Select(e => e.Epoch));
            Assert.Equal(first.Epochs[^1].GlobalStep + 5, resumed.Epochs[0].GlobalStep);
            Assert.True(Directory.Exists(Path.Combine(first.ModelDirectory, "checkpoint-0003")));
            var all = first.Epochs.Concat(resumed.Epochs).ToArray();
            Assert.True(all[^1].Loss < 0.7 * all[0].Loss, "loss per epoch: " + string.Join(", ", all.Select(e => e.Loss)));

            using var embedder = Embedders.Open(new ModelStore(Path.Combine(root.FullName, "store")), resumed.OnnxPath);
            Assert.Equal(64, embedder.Info.Dimensions);
            AssertNotCollapsed(embedder, data);
            var card = ModelCard.Read(Path.ChangeExtension(resumed.OnnxPath, ".card.json"));
            Assert.Equal("cosine", card.Metric);
            Assert.Contains("verification", card.ThresholdSource);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
