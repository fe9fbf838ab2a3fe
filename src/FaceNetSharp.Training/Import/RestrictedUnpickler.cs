using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace FaceNetSharp.Training.Import;

/// <summary>A pickle stream asks for something a state dict never needs, or is malformed.</summary>
public sealed class UnsafePickleException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A Python global (module.name) that the restricted unpickler accepted.</summary>
internal sealed record PyGlobal(string Module, string Name)
{
    public override string ToString() => Module + "." + Name;
}

/// <summary>A Python dict (insertion-ordered, like OrderedDict and dicts since 3.7).</summary>
internal sealed class PyDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public void Set(object? key, object? value)
    {
        int i = Items.FindIndex(kv => Equals(kv.Key, key));
        if (i >= 0) Items[i] = new(key, value);
        else Items.Add(new(key, value));
    }
}

/// <summary>The result of <c>torch._utils._rebuild_tensor_v2</c>: a view onto a storage.</summary>
internal sealed record PyTensorRef(object Storage, long StorageOffset, long[] Size, long[] Stride);

/// <summary>
/// A pickle reader that never executes code: it understands the opcodes that <c>torch.save</c> emits (protocols 2 to
/// 5) and builds plain values. Globals are checked against a short allow-list the moment they are named, and only
/// the allowed callables can be applied (REDUCE), each by an interpretation written here rather than by calling
/// anything. Everything else is refused with <see cref="UnsafePickleException"/>.
/// </summary>
internal sealed class RestrictedUnpickler
{
    /// <summary>The globals a PyTorch state dict uses.</summary>
    public static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage",
    };

    private static readonly object Mark = new();

    private readonly byte[] data;
    private readonly string source;
    private readonly Func<object?, object> persistentLoad;
    private int pos;

    /// <param name="data">The bytes holding one or more pickles.</param>
    /// <param name="source">Names the input in error messages.</param>
    /// <param name="persistentLoad">Maps a persistent id (BINPERSID) to an object (torch: storage references).</param>
    /// <param name="start">Offset of the first pickle.</param>
    public RestrictedUnpickler(byte[] data, string source, Func<object?, object> persistentLoad, int start = 0)
    {
        this.data = data;
        this.source = source;
        this.persistentLoad = persistentLoad;
        pos = start;
    }

    /// <summary>Offset just past the last pickle read.</summary>
    public int Position => pos;

    /// <summary>Reads one pickle (up to its STOP opcode) and returns its value.</summary>
    public object? Load()
    {
        var stack = new List<object?>();
        var memo = new Dictionary<long, object?>();
        while (true)
        {
            int at = pos;
            byte op = U8();
            switch (op)
            {
                case 0x80: U8(); break;                                         // PROTO
                case 0x95: Bytes(8); break;                                     // FRAME (length ignored: we read flat)
                case (byte)'.': return Pop(stack, at);                         // STOP
                case (byte)'(': stack.Add(Mark); break;                         // MARK
                case (byte)'N': stack.Add(null); break;                         // NONE
                case 0x88: stack.Add(true); break;                              // NEWTRUE
                case 0x89: stack.Add(false); break;                             // NEWFALSE
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break; // BININT
                case (byte)'K': stack.Add((long)U8()); break;                   // BININT1
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break; // BININT2
                case 0x8a: stack.Add(Long(Bytes(U8()))); break;                 // LONG1
                case 0x8b: stack.Add(Long(Bytes(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))))); break; // LONG4
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break; // BINFLOAT
                case (byte)'X': stack.Add(Utf8(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))))); break; // BINUNICODE
                case 0x8c: stack.Add(Utf8(U8())); break;                        // SHORT_BINUNICODE
                case 0x8d: stack.Add(Utf8(checked((int)BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8))))); break; // BINUNICODE8
                case (byte)'T': stack.Add(Latin1(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))))); break; // BINSTRING
                case (byte)'U': stack.Add(Latin1(U8())); break;                 // SHORT_BINSTRING
                case (byte)'B': stack.Add(Bytes(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))).ToArray()); break; // BINBYTES
                case (byte)'C': stack.Add(Bytes(U8()).ToArray()); break;        // SHORT_BINBYTES
                case (byte)')': stack.Add(Array.Empty<object?>()); break;       // EMPTY_TUPLE
                case 0x85: stack.Add(TakeN(stack, 1, at)); break;               // TUPLE1
                case 0x86: stack.Add(TakeN(stack, 2, at)); break;               // TUPLE2
                case 0x87: stack.Add(TakeN(stack, 3, at)); break;               // TUPLE3
                case (byte)'t': stack.Add(PopToMark(stack, at).ToArray()); break; // TUPLE
                case (byte)']': stack.Add(new List<object?>()); break;          // EMPTY_LIST
                case (byte)'l': stack.Add(PopToMark(stack, at)); break;         // LIST
                case (byte)'a':                                                 // APPEND
                {
                    var v = Pop(stack, at);
                    As<List<object?>>(Peek(stack, at), at, "APPEND").Add(v);
                    break;
                }
                case (byte)'e':                                                 // APPENDS
                {
                    var items = PopToMark(stack, at);
                    As<List<object?>>(Peek(stack, at), at, "APPENDS").AddRange(items);
                    break;
                }
                case (byte)'}': stack.Add(new PyDict()); break;                 // EMPTY_DICT
                case (byte)'d':                                                 // DICT
                {
                    var items = PopToMark(stack, at);
                    var d = new PyDict();
                    for (int i = 0; i + 1 < items.Count; i += 2) d.Set(items[i], items[i + 1]);
                    stack.Add(d);
                    break;
                }
                case (byte)'s':                                                 // SETITEM
                {
                    var v = Pop(stack, at);
                    var k = Pop(stack, at);
                    As<PyDict>(Peek(stack, at), at, "SETITEM").Set(k, v);
                    break;
                }
                case (byte)'u':                                                 // SETITEMS
                {
                    var items = PopToMark(stack, at);
                    var d = As<PyDict>(Peek(stack, at), at, "SETITEMS");
                    if (items.Count % 2 != 0) throw Bad(at, "SETITEMS with an odd number of items");
                    for (int i = 0; i < items.Count; i += 2) d.Set(items[i], items[i + 1]);
                    break;
                }
                case (byte)'q': memo[U8()] = Peek(stack, at); break;            // BINPUT
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Peek(stack, at); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Peek(stack, at); break;           // MEMOIZE
                case (byte)'h': stack.Add(Memo(memo, U8(), at)); break;         // BINGET
                case (byte)'j': stack.Add(Memo(memo, BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)), at)); break; // LONG_BINGET
                case (byte)'c':                                                 // GLOBAL "module\nname\n"
                {
                    string module = Line(at), name = Line(at);
                    stack.Add(Global(module, name, at));
                    break;
                }
                case 0x93:                                                      // STACK_GLOBAL
                {
                    var name = As<string>(Pop(stack, at), at, "STACK_GLOBAL");
                    var module = As<string>(Pop(stack, at), at, "STACK_GLOBAL");
                    stack.Add(Global(module, name, at));
                    break;
                }
                case (byte)'Q': stack.Add(persistentLoad(Pop(stack, at))); break; // BINPERSID
                case (byte)'R':                                                 // REDUCE
                {
                    var args = As<object?[]>(Pop(stack, at), at, "REDUCE arguments");
                    var func = Pop(stack, at);
                    stack.Add(Reduce(func, args, at));
                    break;
                }
                case (byte)'b':                                                 // BUILD
                {
                    var state = Pop(stack, at);
                    var target = Peek(stack, at);
                    // OrderedDict state dicts carry a '_metadata' attribute (per-module versions); tensors rebuilt
                    // through _rebuild_parameter may carry attributes too. Both are ignored; nothing else may BUILD.
                    if (target is not (PyDict or PyTensorRef) || state is not (PyDict or null or object?[]))
                        throw Bad(at, $"BUILD on {Describe(target)} is not part of a state dict");
                    break;
                }
                default:
                    throw Bad(at, $"pickle opcode 0x{op:x2} ('{(op is >= 32 and < 127 ? (char)op : '?')}') is not one a state dict uses");
            }
        }
    }

    private object Global(string module, string name, int at)
    {
        var full = module + "." + name;
        if (!AllowedGlobals.Contains(full))
            throw new UnsafePickleException(
                $"{source}: refused the Python global '{full}' at byte {at}: a PyTorch state dict only uses " +
                "OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage; " +
                "this reader never runs pickle code, so files holding anything else (whole pickled models, " +
                "arbitrary objects) cannot be read. Save the model's state_dict() instead.");
        return new PyGlobal(module, name);
    }

    private object Reduce(object? func, object?[] args, int at)
    {
        if (func is not PyGlobal g) throw Bad(at, $"REDUCE on {Describe(func)}");
        switch (g.ToString())
        {
            case "collections.OrderedDict":
            {
                // OrderedDict() as torch writes it, or OrderedDict(pairs) as other picklers do (e.g. OrderedDict([])).
                var d = new PyDict();
                if (args.Length == 0) return d;
                if (args.Length != 1 || args[0] is not System.Collections.IEnumerable pairs || args[0] is string)
                    throw Bad(at, "OrderedDict with arguments other than one list of pairs");
                foreach (var p in pairs)
                {
                    var kv = p switch
                    {
                        object?[] { Length: 2 } pair => pair,
                        List<object?> { Count: 2 } l => [l[0], l[1]],
                        _ => throw Bad(at, "OrderedDict argument that is not a list of pairs"),
                    };
                    d.Set(kv[0], kv[1]);
                }
                return d;
            }
            case "torch._utils._rebuild_tensor_v2":   // (storage, offset, size, stride, requires_grad, hooks[, metadata])
            case "torch._utils._rebuild_tensor":      // (storage, offset, size, stride)
            {
                if (args.Length < 4) throw Bad(at, $"{g} with {args.Length} arguments");
                var storage = args[0] ?? throw Bad(at, $"{g} without a storage");
                return new PyTensorRef(storage, ToLong(args[1], at), LongTuple(args[2], at), LongTuple(args[3], at));
            }
            case "torch._utils._rebuild_parameter":   // (data, requires_grad, backward_hooks)
                if (args.Length < 1 || args[0] is not PyTensorRef t) throw Bad(at, "_rebuild_parameter without a tensor");
                return t;
            default:
                throw Bad(at, $"{g} cannot be called (only OrderedDict and the tensor rebuild functions can)");
        }
    }

    private long[] LongTuple(object? o, int at)
    {
        var items = o as object?[] ?? throw Bad(at, $"expected a tuple of ints, got {Describe(o)}");
        return items.Select(x => ToLong(x, at)).ToArray();
    }

    private long ToLong(object? o, int at) => o switch
    {
        long l => l,
        BigInteger b when b >= long.MinValue && b <= long.MaxValue => (long)b,
        _ => throw Bad(at, $"expected an int, got {Describe(o)}"),
    };

    private static object Long(ReadOnlySpan<byte> bytes)
    {
        // Little-endian two's complement of any length (LONG1/LONG4).
        var b = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return b >= long.MinValue && b <= long.MaxValue ? (long)b : b;
    }

    private T As<T>(object? o, int at, string what) where T : class =>
        o as T ?? throw Bad(at, $"{what} expected {typeof(T).Name}, found {Describe(o)}");

    private object? Memo(Dictionary<long, object?> memo, long key, int at) =>
        memo.TryGetValue(key, out var v) ? v : throw Bad(at, $"memo key {key} was never stored");

    private object? Pop(List<object?> stack, int at)
    {
        if (stack.Count == 0) throw Bad(at, "stack underflow");
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        if (ReferenceEquals(v, Mark)) throw Bad(at, "unexpected MARK");
        return v;
    }

    private object? Peek(List<object?> stack, int at) =>
        stack.Count == 0 || ReferenceEquals(stack[^1], Mark) ? throw Bad(at, "stack underflow") : stack[^1];

    private object?[] TakeN(List<object?> stack, int n, int at)
    {
        var r = new object?[n];
        for (int i = n - 1; i >= 0; i--) r[i] = Pop(stack, at);
        return r;
    }

    private List<object?> PopToMark(List<object?> stack, int at)
    {
        int m = stack.FindLastIndex(x => ReferenceEquals(x, Mark));
        if (m < 0) throw Bad(at, "no MARK on the stack");
        var items = stack.GetRange(m + 1, stack.Count - m - 1);
        stack.RemoveRange(m, stack.Count - m);
        return items;
    }

    private byte U8() => pos < data.Length ? data[pos++] : throw Bad(pos, "unexpected end of data");

    private ReadOnlySpan<byte> Bytes(int n)
    {
        if (n < 0 || pos + n > data.Length) throw Bad(pos, $"a {n}-byte field runs past the end of the data");
        var s = data.AsSpan(pos, n);
        pos += n;
        return s;
    }

    private string Utf8(int n) => Encoding.UTF8.GetString(Bytes(n));

    private string Latin1(int n) => Encoding.Latin1.GetString(Bytes(n));

    private string Line(int at)
    {
        int end = Array.IndexOf(data, (byte)'\n', pos);
        if (end < 0 || end - pos > 256) throw Bad(at, "GLOBAL without a newline-terminated name");
        var s = Encoding.ASCII.GetString(data, pos, end - pos);
        pos = end + 1;
        return s;
    }

    private static string Describe(object? o) => o switch
    {
        null => "None",
        PyGlobal g => g.ToString(),
        _ => o.GetType().Name,
    };

    private UnsafePickleException Bad(int at, string why) => new($"{source}: malformed or unsupported pickle at byte {at}: {why}");
}
