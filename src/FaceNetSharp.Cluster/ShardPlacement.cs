using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace FaceNetSharp.Cluster;

/// <summary>
/// Places gallery shard k on the k-th silo (mod the number of silos) of the silos alive now, ordered by address: the
/// shards spread evenly over the silos, and when a silo dies its shards re-activate spread over the survivors.
/// </summary>
/// <remarks>
/// Orleans' activation-count placement, used before, put 8 of 12 shards on one of 3 silos at a quiet 10M-face start
/// and all 12 on one of 2 silos in a 20k-face bench run (2026-11-30, bench/FaceNetSharp.Cluster.Bench): every shard
/// activates at once on a cluster's first call, before the silos' activation counts have been exchanged, so they all
/// see the same "least loaded" silo. Placement by shard number needs no such statistics. Its limit: a silo that joins
/// later gets no shard until some shard re-activates (as with the placement before).
/// </remarks>
[GenerateSerializer, Immutable]
public sealed class ShardPlacementStrategy : PlacementStrategy;

/// <summary>Marks a grain with integer keys as placed by <see cref="ShardPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ShardPlacementAttribute() : PlacementAttribute(new ShardPlacementStrategy());

/// <summary>Picks the silo for a shard's activation by its number (see <see cref="ShardPlacementStrategy"/>).</summary>
internal sealed class ShardPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (silos.Length == 0) throw new OrleansException($"no silo can host {target.GrainIdentity}");
        // the same order on every silo, whichever of them places the shard (SiloAddress compares by endpoint, then generation)
        Array.Sort(silos);
        long shard = target.GrainIdentity.GetIntegerKey();
        return Task.FromResult(silos[(int)(Math.Abs(shard) % silos.Length)]);
    }
}
