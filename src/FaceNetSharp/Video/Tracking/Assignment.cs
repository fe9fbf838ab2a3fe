namespace FaceNetSharp.Video.Tracking;

/// <summary>Assignments of rows (tracks) to columns (detections) maximising a score; -infinity forbids a pair.</summary>
internal static class Assignment
{
    /// <summary>Pairs taken highest score first, each row and column at most once.</summary>
    public static List<(int row, int col)> Greedy(float[,] score)
    {
        int n = score.GetLength(0), m = score.GetLength(1);
        var all = new List<(float s, int i, int j)>();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                if (!float.IsNegativeInfinity(score[i, j])) all.Add((score[i, j], i, j));
        all.Sort((a, b) => b.s.CompareTo(a.s));
        var rowUsed = new bool[n];
        var colUsed = new bool[m];
        var pairs = new List<(int, int)>();
        foreach (var (_, i, j) in all)
        {
            if (rowUsed[i] || colUsed[j]) continue;
            rowUsed[i] = colUsed[j] = true;
            pairs.Add((i, j));
        }
        return pairs;
    }

    /// <summary>
    /// The assignment with the largest total score over allowed pairs (Hungarian algorithm with potentials,
    /// O(n² m) on the square matrix padded with "no pair" cells). A forbidden pair is never returned.
    /// </summary>
    public static List<(int row, int col)> Hungarian(float[,] score)
    {
        int rows = score.GetLength(0), cols = score.GetLength(1);
        var pairs = new List<(int, int)>();
        if (rows == 0 || cols == 0) return pairs;
        // cost = -score on allowed pairs; a forbidden pair costs more than leaving both unmatched (padding, cost 0)
        // which, with every allowed score in [-1, 1] give or take the appearance term, keeps them out of the optimum
        int n = Math.Max(rows, cols);
        double big = 1e6;
        var cost = new double[n + 1, n + 1];
        for (int i = 1; i <= n; i++)
            for (int j = 1; j <= n; j++)
                cost[i, j] = i <= rows && j <= cols
                    ? (float.IsNegativeInfinity(score[i - 1, j - 1]) ? big : -score[i - 1, j - 1] - 10) // -10: any allowed pair beats none
                    : 0;
        // e-maxx's O(n^3) Hungarian, 1-based, p[j] = the row assigned to column j
        var u = new double[n + 1];
        var v = new double[n + 1];
        var p = new int[n + 1];
        var way = new int[n + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            var minv = new double[n + 1];
            Array.Fill(minv, double.PositiveInfinity);
            var used = new bool[n + 1];
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= n; j++)
                {
                    if (used[j]) continue;
                    double cur = cost[i0, j] - u[i0] - v[j];
                    if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                    if (minv[j] < delta) { delta = minv[j]; j1 = j; }
                }
                for (int j = 0; j <= n; j++)
                {
                    if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                    else minv[j] -= delta;
                }
                j0 = j1;
            } while (p[j0] != 0);
            do
            {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            } while (j0 != 0);
        }
        for (int j = 1; j <= cols; j++)
        {
            int i = p[j];
            if (i >= 1 && i <= rows && !float.IsNegativeInfinity(score[i - 1, j - 1])) pairs.Add((i - 1, j - 1));
        }
        return pairs;
    }
}
