using System.Net;

namespace FaceNetSharp.Server.Tests;

/// <summary>
/// <c>/v1/identify</c> chooses its threshold for a false-positive identification rate at the gallery's size (issue 10,
/// section 2), says which operating point it used, and takes a request's <c>fpir</c>.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class IdentifyOperatingPointTests(ServerFixture fixture)
{
    private static string Orl(int person, int photo) => TestPaths.Shared("faces", "orl-att-faces", "orl_faces", $"s{person}", $"{photo}.pgm");

    [SkippableFact]
    public async Task Strangers_within_the_one_to_one_threshold_are_not_named_and_the_answer_says_why()
    {
        var photos = Enumerable.Range(1, 10).Select(p => Enumerable.Range(1, 5).Select(i => Orl(p, i)).ToArray()).ToArray();
        var strangers = Enumerable.Range(11, 10).Select(p => Orl(p, 1)).ToArray();
        await using var s = await fixture.StartAsync();
        for (int p = 0; p < photos.Length; p++)
            await Json.OkAsync<EnrolResponse>(await s.Client.PostAsync($"/v1/gallery/s{p + 1}",
                Form.Of([.. photos[p].Select(f => ("image", f))])), HttpStatusCode.Created);

        float oneToOne = fixture.Recognizer.Model.Threshold;
        int withinOneToOne = 0;
        foreach (var stranger in strangers)
        {
            var r = await Json.OkAsync<IdentifyResponse>(await s.Client.PostAsync("/v1/identify", Form.Of(("image", stranger))));
            Assert.Contains("for FPIR 1% at 10 people", r.OperatingPoint);
            Assert.Equal(0.01, r.Fpir);
            Assert.True(r.Threshold < oneToOne, $"{r.Threshold} vs {oneToOne}");
            var face = Assert.Single(r.Faces);
            Assert.Null(face.Person);
            if (face.Matches[0].Distance < oneToOne) withinOneToOne++;
        }
        // The 1:1 threshold would have named some of these strangers as someone.
        Assert.True(withinOneToOne >= 2, $"{withinOneToOne} of {strangers.Length} strangers within {oneToOne}");

        // A request's own FPIR: a looser one gives a looser threshold; a bad one is a 400 naming the field.
        var form = Form.Of(("image", strangers[0]));
        form.Add(new StringContent("0.2"), "fpir");
        var loose = await Json.OkAsync<IdentifyResponse>(await s.Client.PostAsync("/v1/identify", form));
        Assert.Contains("for FPIR 20% at 10 people", loose.OperatingPoint);
        var bad = Form.Of(("image", strangers[0]));
        bad.Add(new StringContent("1.5"), "fpir");
        var problem = await Json.ProblemAsync(await s.Client.PostAsync("/v1/identify", bad), HttpStatusCode.BadRequest);
        Assert.Contains("'fpir'", problem.Detail);
    }
}
