"""Notebook 09: the bAbI parser, tensors, the three readers (masks, weight tying, overfitting) and the widget."""

import pytest
import torch

from course_lib.babi import TASKS, BabiQuestion, babi_words, build_vocabulary, load_babi, parse_babi, vectorize
from course_lib.data import load_text
from course_lib.errors import DataFileError
from course_lib.labs import qa as Q
from course_lib.models.lstm_reader import LSTMReader, LSTMReaderConfig
from course_lib.models.memnet import MemN2N, MemN2NConfig, position_encoding
from course_lib.models.transformer_reader import TransformerReader, TransformerReaderConfig

STORY = """1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary? \tbathroom\t1
4 Daniel went back to the hallway.
5 Sandra moved to the garden.
6 Where is Daniel? \thallway\t4
1 John travelled to the office.
2 Where is John? \toffice\t1
"""


def test_parser_reads_stories_questions_and_supporting_facts():
    qs = parse_babi(STORY, "story.txt")
    assert [q.question for q in qs] == ["Where is Mary?", "Where is Daniel?", "Where is John?"]
    assert qs[1].story == (
        "Mary moved to the bathroom.",
        "John went to the hallway.",
        "Daniel went back to the hallway.",
        "Sandra moved to the garden.",
    )  # questions are not statements: line 4 is story index 2
    assert qs[1].supporting == (2,) and qs[1].answer == "hallway" and qs[1].line == 6
    assert qs[2].story == ("John travelled to the office.",) and qs[2].supporting == (0,)
    assert babi_words("Where is Mary?") == ["where", "is", "mary"]


@pytest.mark.parametrize(
    "bad, line, words",
    [
        ("1 Mary moved.\nMary went home.\n", 2, "expected '<number> <sentence>'"),
        ("1 Mary moved.\n3 John left.\n", 2, "expected line number 2"),
        ("1 Mary moved.\n2 Where is Mary? \tbathroom\n", 2, "a question line is"),
        ("1 Mary moved.\n2 Where is Mary? \t\t1\n", 2, "a question line is"),
        ("1 Mary moved.\n2 Where is Mary? \tbathroom\tone\n", 2, "line numbers"),
        ("1 Mary moved.\n2 Where is Mary? \tbathroom\t5\n", 2, "not earlier statements"),
        ("1 Mary moved.\n2 Where is Mary? \tbathroom\t2\n", 2, "not earlier statements"),
        ("1 Mary moved.\n2 ...\n", 2, "at least one word"),
    ],
)
def test_parser_rejects_a_malformed_line_naming_it(bad, line, words):
    with pytest.raises(DataFileError) as e:
        parse_babi(bad, "broken.txt")
    assert f"broken.txt, line {line}:" in str(e.value) and words in str(e.value)


def test_the_bundled_tasks_have_their_documented_sizes():
    for task in (1, 2):
        train, test = load_babi(task, "train"), load_babi(task, "test")
        assert len(train) == 10_000 and len(test) == 1_000
        text = load_text(f"babi_qa/{TASKS[task]}_train.txt")
        assert sum(1 for line in text.split("\n") if line.startswith("1 ")) == 2_000  # stories
        assert {len(q.supporting) for q in test} == {task}
    assert len(build_vocabulary(load_babi(2, "train")).itos) > 30


def test_vectorize_puts_the_most_recent_sentence_first():
    qs = parse_babi(STORY, "story.txt")
    tok = build_vocabulary(qs)
    t = vectorize(qs, tok, memory_size=3, sentence_len=6)
    assert t["story"].shape == (3, 3, 6) and t["mask"].tolist()[1] == [True, True, True]
    assert tok.decode(t["story"][1, 0]) == "sandra moved to the garden"  # slot 0: the latest statement
    assert tok.decode(t["story"][1, 2]) == "john went to the hallway"  # 4 statements, memory of 3: the oldest dropped
    assert t["support"][1].tolist() == [False, True, False]  # "Daniel went back ..." is slot 1
    assert t["mask"][2].tolist() == [True, False, False] and t["answer"][0] == tok.stoi["bathroom"]
    assert (
        tok.decode(t["tokens"][0, : t["lengths"][0]])
        == "mary moved to the bathroom john went to the hallway where is mary"
    )


def test_position_encoding_is_the_papers_formula():
    J, d = 6, 5
    pe = position_encoding(J, d)
    for j in range(1, J + 1):
        for k in range(1, d + 1):
            assert pe[j - 1, k - 1].item() == pytest.approx((1 - j / J) - (k / d) * (1 - 2 * j / J))


def _batch(n=4, M=6, J=8, V=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    story = torch.randint(1, V, (n, M, J), generator=g)
    mask = torch.zeros(n, M, dtype=torch.bool)
    for i, k in enumerate([6, 3, 1, 4][:n]):
        mask[i, :k] = True
    story[~mask] = 0
    return story, torch.randint(1, V, (n, J), generator=g), mask


@pytest.mark.parametrize("hops", [1, 3])
def test_memnet_attention_sums_to_one_over_real_sentences_only(hops):
    torch.manual_seed(0)
    model = MemN2N(MemN2NConfig(vocab_size=20, n_embd=12, n_hops=hops, memory_size=6, sentence_len=8))
    story, question, mask = _batch()
    logits, att = model(story, question, mask)
    assert logits.shape == (4, 20) and att.shape == (4, hops, 6)
    torch.testing.assert_close(att.sum(-1), torch.ones(4, hops))
    assert torch.all(att[~mask[:, None, :].expand_as(att)] == 0)
    noisy = story.clone()
    noisy[~mask] = 7  # whatever sits in an empty slot, nothing changes
    torch.testing.assert_close(model(noisy, question, mask)[0], logits)


def test_memnet_ties_adjacent_weights_as_in_the_paper():
    torch.manual_seed(0)
    model = MemN2N(MemN2NConfig(vocab_size=20, n_embd=12, n_hops=3, memory_size=6, sentence_len=8))
    assert len(model.E) == 4 and len(model.T) == 4  # K + 1 matrices for K = 3 hops
    assert sum(p.numel() for p in model.parameters()) == 4 * 20 * 12 + 4 * 6 * 12
    story, question, mask = _batch()
    logits, att = model(story, question, mask)
    # by hand, with A^k = E_{k-1}, C^k = E_k, B = E_0, W = E_3ᵀ
    pe = position_encoding(8, 12)
    u = (model.E[0](question) * pe).sum(-2)
    for k in range(3):
        m = (model.E[k](story) * pe).sum(-2) + model.T[k]
        c = (model.E[k + 1](story) * pe).sum(-2) + model.T[k + 1]
        p = torch.softmax((m @ u[:, :, None]).squeeze(-1).masked_fill(~mask, -torch.inf), -1)
        torch.testing.assert_close(p, att[:, k])
        u = u + (p[:, :, None] * c).sum(1)
    torch.testing.assert_close(logits, u @ model.E[3].weight.T)


def test_transformer_reader_never_attends_to_padding():
    torch.manual_seed(0)
    model = TransformerReader(
        TransformerReaderConfig(
            vocab_size=20, n_embd=16, n_head=2, n_layer=2, memory_size=6, sentence_len=8, dropout=0.0
        )
    ).eval()
    story, question, mask = _batch()
    logits, maps = model(story, question, mask, need_weights=True)
    keep = torch.cat([torch.ones(4, 1, dtype=torch.bool), mask], 1)
    for w in maps:
        assert w.shape == (4, 2, 7, 7)
        assert torch.all(w[~keep[:, None, None, :].expand_as(w)] == 0)
        torch.testing.assert_close(w.sum(-1), torch.ones(4, 2, 7))
    noisy = story.clone()
    noisy[~mask] = 7
    torch.testing.assert_close(model(noisy, question, mask)[0], logits)


def test_lstm_reader_ignores_padding():
    torch.manual_seed(0)
    model = LSTMReader(LSTMReaderConfig(vocab_size=20, n_embd=8, n_hidden=8)).eval()
    tokens = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 10]])
    lengths = torch.tensor([3, 5])
    out = model(tokens, lengths)
    torch.testing.assert_close(out[0], model(tokens[:1, :3], lengths[:1])[0])
    noisy = tokens.clone()
    noisy[0, 3:] = 11
    torch.testing.assert_close(model(noisy, lengths), out)


@pytest.fixture(scope="module")
def tok():
    return Q.qa_vocabulary()


@pytest.fixture(scope="module")
def tiny(tok):
    return tok, vectorize(load_babi(2, "train")[:48], tok)


@pytest.mark.parametrize("reader", Q.READERS)
def test_each_reader_overfits_a_tiny_batch(tiny, reader):
    tok, batch = tiny
    torch.manual_seed(0)
    recipe = Q.QARecipe(reader, n_embd=32, n_hidden=64, dropout=0.0)
    model = Q.build_reader(recipe, tok.vocab_size)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    b = Q._trim(batch)
    for _ in range(150):
        out = Q.qa_loss(model, b)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        assert Q.qa_loss(model, b)["acc"].item() == 1.0


def test_support_hit_rate():
    att = torch.tensor([[[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]], [[0.9, 0.05, 0.05], [0.2, 0.2, 0.6]]])  # (N=2, K=2, M=3)
    support = torch.tensor([[False, True, False], [False, False, True]])
    assert Q.support_hit_rate(att, support).tolist() == [0.5, 0.5]


def test_story_panel_answers_and_refuses_kindly(tok):
    torch.manual_seed(0)
    models = {name: Q.build_reader(Q.QARecipe(name, n_embd=16, n_hidden=16), tok.vocab_size) for name in Q.READERS}
    tests = {1: load_babi(1, "test")[:5], 2: load_babi(2, "test")[:5]}
    panel = Q.story_panel(models, tok, tests)
    assert panel.error is None and "Q: Where is" in panel.text
    panel.controls["question"].value = "Where is the unicorn<b>?"
    assert "Unknown word(s): b, unicorn" in panel.error and "<b>?" not in panel._html.value
    panel.controls["question"].value = "Where is John?"
    panel.controls["own_story"].value = "John went to the kitchen.\nMary went to the garden."
    assert panel.error is None and "Where is John?" in panel.text
    att = Q.answer_question(
        models["memnet3"], tok, ["John went to the kitchen.", "Mary went to the garden."], "Where is John?"
    )
    assert att["attention"].shape == (3, 2)
    torch.testing.assert_close(att["attention"].sum(-1), torch.ones(3))
    panel.controls["reader"].value = "lstm"
    assert panel.error is None and "no attention" in panel.text
    panel.controls["own_story"].value = "\n  \n"
    panel.controls["question"].value = ""
    assert panel.error is None  # an empty own story means: the test story
    with pytest.raises(Q.InputError):
        Q.answer_question(models["lstm"], tok, [], "Where is John?")
    assert isinstance(tests[1][0], BabiQuestion)
