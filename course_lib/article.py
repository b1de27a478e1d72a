"""The article's own words, in one place: every passage the course quotes, and its errata.

Defined in: notebooks/00_start_here.ipynb

The course follows the article **大语言模型原理与工程实践：案例分析** (author line: 禅与计算机程序设计艺术 / Zen and
the Art of Computer Programming) section by section. It does not ship the article; it quotes the short
passages it discusses, and only from here:

* :data:`HEADINGS` — each section's heading, as printed;
* :data:`QUOTES` — the passages the notebooks quote, keyed by section (``"5.2"``, ``"4.1.3.1"``): one passage
  or a list of them, each a verbatim copy of the text (Chinese, formulas in their LaTeX and code as printed).
  The file holds the article twice (a first version and a "complete" second one, after ``### 完整文章``);
  where they differ, the second is quoted;
* :data:`PROGRAM` — the §5.2 Keras program, byte for byte;
* :data:`ERRATA` — what the article gets wrong, one :class:`Erratum` per error, each with the notebook and
  heading that demonstrates it (or ``"planned"``).

``tests/test_article.py`` checks every quotation against the article's text when ``../shared/article/article.md``
is present (learners do not have it; the test then says why it skips), and that every erratum points at a
heading that exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .checks import check_int, check_text
from .config import NOTEBOOKS_DIR
from .errors import ArgumentError

#: The §5.2 program, exactly as printed (its Chinese comments included).
PROGRAM = """\
import tensorflow as tf
from tensorflow.keras.layers import Embedding, LSTM, Dense
from tensorflow.keras.models import Model

# 设置超参数
vocab_size = 10000
embedding_dim = 100
hidden_size = 128
batch_size = 64
learning_rate = 0.001

# 创建词汇嵌入层
embedding = Embedding(vocab_size, embedding_dim)

# 创建LSTM层
lstm = LSTM(hidden_size, return_sequences=True)

# 创建全连接层
dense = Dense(vocab_size, activation='softmax')

# 创建模型
inputs = tf.keras.layers.Input(shape=(None,))
x = embedding(inputs)
x = lstm(x)
outputs = dense(x)

model = Model(inputs=inputs, outputs=outputs)

# 编译模型
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss='categorical_crossentropy')

# 模型训练
model.fit(x_train, y_train, batch_size=batch_size, epochs=10)

# 文本生成
def generate_text(input_sequence, model, max_length=50):
    generated_text = ''
    current_sequence = input_sequence

    for _ in range(max_length):
        predictions = model.predict(current_sequence)
        predicted_word = np.argmax(predictions[:, -1, :])
        generated_text += ' ' + str(predicted_word)

        current_sequence = np.concatenate([current_sequence[:, :-1], [[predicted_word]]], axis=1)

    return generated_text

# 测试文本生成
input_sequence = [1] * 10  # 输入序列
generated_text = generate_text(input_sequence, model)
print(generated_text)
"""

HEADINGS: dict[str, str] = {
    "0": "大语言模型原理与工程实践：案例分析",  # the title
    "1": "背景介绍",
    "2": "核心概念与联系",
    "2.1": "词汇嵌入",
    "2.2": "上下文表示",
    "2.3": "注意力机制",
    "2.4": "文本生成",
    "3": "核心算法原理 & 具体操作步骤",
    "3.1": "算法原理概述",
    "3.2": "算法步骤详解",
    "3.2.1": "VAE",
    "3.2.2": "GAN",
    "3.3": "算法优缺点",
    "3.4": "算法应用领域",
    "4": "数学模型和公式 & 详细讲解 & 举例说明",
    "4.1": "数学模型构建",
    "4.1.1": "词汇嵌入",
    "4.1.2": "上下文表示",
    "4.1.3": "生成模型",
    "4.1.3.1": "VAE",
    "4.1.3.2": "GAN",
    "4.2": "公式推导过程",
    "4.2.1": "VAE",
    "4.2.2": "GAN",
    "4.3": "案例分析与讲解",
    "5": "项目实践：代码实例和详细解释说明",
    "5.1": "开发环境搭建",
    "5.2": "源代码详细实现",
    "5.3": "代码解读与分析",
    "5.4": "运行结果展示",
    "6": "实际应用场景",
    "6.1": "机器翻译",
    "6.2": "文本生成",
    "6.3": "问答系统",
    "6.4": "情感分析",
    "6.5": "内容推荐",
    "7": "工具和资源推荐",
    "7.1": "学习资源推荐",
    "7.2": "开发工具推荐",
    "7.3": "相关论文推荐",
    "8": "总结：未来发展趋势与挑战",
    "8.1": "研究成果总结",
    "8.2": "未来发展趋势",
    "8.3": "面临的挑战",
    "8.4": "研究展望",
    "9": "附录：常见问题与解答",
    "9.1": "什么是大语言模型？",
    "9.2": "大语言模型有哪些应用领域？",
    "9.3": "如何训练大语言模型？",
    "9.4": "大语言模型的挑战有哪些？",
    "9.5": "未来大语言模型的发展趋势是什么？",
}

QUOTES: dict[str, str | list[str]] = {
    "1": [
        "自然语言处理（NLP）作为人工智能的一个重要分支，其目标是让计算机理解和生成自然语言。传统的NLP方法依赖于规则和统计方法，但它们在处理复杂语言现象时存在明显的局限性。随着深度学习技术的快速发展，基于神经网络的大语言模型逐渐成为NLP领域的核心技术。",
        "近年来，随着计算资源和数据集的不断增加，大语言模型取得了显著的进步。尤其是GPT-3、BERT等模型的提出，使得大语言模型在多个NLP任务中达到了甚至超过了人类的水平。",
    ],
    "2": [
        "大语言模型的核心概念包括词汇嵌入、上下文表示、注意力机制等。下面通过一个Mermaid流程图来展示这些概念之间的联系。",
        "graph TB\n    A[词汇嵌入] --> B[上下文表示]\n    A --> C[注意力机制]\n    B --> D[文本生成]\n    C --> D",
    ],
    "2.1": "词汇嵌入是将单词映射为高维向量表示的过程，它使得不同单词之间的相似性可以通过向量空间中的距离度量来衡量。词汇嵌入的目的是降低词汇的维度，同时保持词汇之间的语义关系。",
    "2.2": "上下文表示是指通过神经网络模型将输入的文本序列映射为一个固定长度的向量表示。这种表示能够捕捉文本的局部和全局信息，是实现语言理解的关键。",
    "2.3": "注意力机制是一种能够动态调整模型对输入序列中不同部分重要性的机制。通过注意力机制，模型可以更准确地捕捉到文本中的关键信息，从而提高语言理解的精度。",
    "2.4": "文本生成是指根据给定的输入文本序列，生成新的文本序列。注意力机制在这一过程中起到关键作用，通过动态调整对输入序列的关注度，模型能够生成更加连贯和自然的文本。",
    "3": "大语言模型的核心算法是基于变分自编码器（VAE）和生成对抗网络（GAN）的深度学习模型。下面将详细介绍这些算法的原理和具体操作步骤。",
    "3.1": "VAE和GAN都是无监督学习的框架，通过最大化数据分布的似然估计来生成数据。VAE通过引入编码器-解码器结构，将输入数据映射为一个潜在空间，然后从潜在空间中采样生成新的数据。GAN则通过生成器和判别器的对抗训练，使得生成器能够生成越来越接近真实数据的样本。",
    "3.2.1": [
        "1. **编码器**：将输入数据映射为潜在空间中的一个向量。",
        "2. **解码器**：从潜在空间中采样生成新的数据。",
        "3. **重参数化**：通过重参数化技巧，使得解码器能够从潜在空间中采样生成数据。",
    ],
    "3.2.2": [
        "1. **生成器**：从潜在空间中采样生成新的数据。",
        "2. **判别器**：判断输入数据是真实数据还是生成数据。",
        "3. **对抗训练**：生成器和判别器交替训练，使得生成器能够生成越来越真实的数据，判别器能够准确地区分真实数据和生成数据。",
    ],
    "3.3": [
        "- **无监督学习**：不需要标注数据，能够从大量未标注的数据中进行学习。",
        "- **数据生成能力**：通过生成器和判别器的对抗训练，能够生成高质量的数据。",
        "- **训练难度**：GAN的训练过程较为复杂，容易陷入局部最优。",
        "- **数据分布**：GAN在生成数据时，可能会出现数据分布不均匀的问题。",
    ],
    "3.4": "VAE和GAN在多个领域都有广泛的应用，如图像生成、文本生成、语音合成等。在大语言模型中，VAE用于文本生成，GAN则用于提高文本生成的质量和多样性。",
    "4.1.1": [
        "假设我们有一个单词集合 \\(V\\)，每个单词都可以表示为一个整数。词汇嵌入将每个整数映射为一个 \\(d\\)-维向量，即",
        "\\text{Word2Vec}(v) = \\mathbf{e}_v \\in \\mathbb{R}^d",
    ],
    "4.1.2": [
        "上下文表示是将输入文本序列映射为一个固定长度的向量表示。假设我们有一个文本序列 \\(x = [x_1, x_2, \\ldots, x_T]\\)，其中 \\(x_t\\) 表示第 \\(t\\) 个单词的嵌入向量。我们可以使用平均池化或最大池化来获取上下文表示：",
        "\\mathbf{h} = \\frac{1}{T} \\sum_{t=1}^{T} \\text{Word2Vec}(x_t)",
        "\\mathbf{h} = \\max_{t=1}^{T} \\text{Word2Vec}(x_t)",
    ],
    "4.1.3.1": [
        "VAE由编码器和解码器组成。编码器将输入数据映射为一个潜在空间中的向量，解码器从潜在空间中采样生成新的数据。VAE的损失函数包括两部分：数据重构损失和潜在空间分布损失。",
        "L(\\theta) = \\frac{1}{N} \\sum_{n=1}^{N} \\left[ \\log p(\\mathbf{x}|\\mathbf{z}; \\theta) + \\lambda \\log p(\\mathbf{z}; \\theta) \\right]",
        "其中，\\(\\theta\\) 表示模型参数，\\(p(\\mathbf{x}|\\mathbf{z}; \\theta)\\) 表示解码器生成的数据分布，\\(p(\\mathbf{z}; \\theta)\\) 表示潜在空间中向量的分布。",
    ],
    "4.1.3.2": [
        "GAN由生成器和判别器组成。生成器从潜在空间中采样生成新的数据，判别器判断输入数据是真实数据还是生成数据。GAN的训练目标是最大化生成器的损失函数和最小化判别器的损失函数。",
        "L_G(\\theta_G) = -\\log D(\\mathbf{x}; \\theta_D)",
        "L_D(\\theta_D) = -\\log (D(\\mathbf{x}; \\theta_D) + D(\\mathbf{G}(\\mathbf{z}; \\theta_G); \\theta_D))",
    ],
    "4.2.1": [
        "\\mathbf{z} = \\text{Encoder}(\\mathbf{x}; \\theta)",
        "L_{\\text{enc}} = \\frac{1}{N} \\sum_{n=1}^{N} \\left[ \\|\\mathbf{x} - \\mathbf{z}\\|_2^2 + \\lambda \\|\\mathbf{z}\\|_2^2 \\right]",
        "其中，\\(\\|\\mathbf{x} - \\mathbf{z}\\|_2^2\\) 表示输入数据和编码后的潜在空间向量之间的距离，\\(\\|\\mathbf{z}\\|_2^2\\) 表示潜在空间中向量的范数。",
        "\\mathbf{x}^{\\prime} = \\text{Decoder}(\\mathbf{z}; \\theta)",
        "L_{\\text{dec}} = \\frac{1}{N} \\sum_{n=1}^{N} \\left[ \\|\\mathbf{x} - \\mathbf{x}^{\\prime}\\|_2^2 \\right]",
    ],
    "4.2.2": [
        "L_G = -\\log D(\\mathbf{x}; \\theta_D)",
        "L_D = -\\log (D(\\mathbf{x}; \\theta_D) + D(\\mathbf{G}(\\mathbf{z}; \\theta_G); \\theta_D))",
    ],
    "4.3": [
        "假设我们有一个包含100个单词的文本序列，每个单词的嵌入维度为100。使用平均池化获取上下文表示，即",
        "\\mathbf{h} = \\frac{1}{100} \\sum_{t=1}^{100} \\text{Word2Vec}(x_t)",
        "然后，我们将这个上下文表示输入到一个变分自编码器（VAE）中，通过编码器和解码器进行训练，最终生成新的文本序列。在这个过程中，VAE的损失函数为：",
        "L(\\theta) = \\frac{1}{100} \\sum_{t=1}^{100} \\left[ \\|\\text{Word2Vec}(x_t) - \\text{Encoder}(\\text{Word2Vec}(x_t); \\theta)\\|_2^2 + \\lambda \\|\\text{Encoder}(\\text{Word2Vec}(x_t); \\theta)\\|_2^2 \\right] + \\frac{1}{100} \\sum_{t=1}^{100} \\left[ \\|\\text{Word2Vec}(x_t) - \\text{Decoder}(\\text{Encoder}(\\text{Word2Vec}(x_t); \\theta); \\theta)\\|_2^2 \\right]",
        "通过不断优化模型参数，我们可以生成与原始文本序列相似的新的文本序列。",
    ],
    "5": "为了更好地展示大语言模型在工程实践中的应用，我们选择了一个文本生成任务的案例。在这个案例中，我们将使用Python和TensorFlow来实现一个基于VAE的文本生成模型。",
    "5.2": PROGRAM,
    "5.3": "上述代码实现了一个基于VAE的文本生成模型。主要步骤如下：",
    "5.4": [
        "假设我们有一个包含1000个单词的训练数据集。使用上述代码进行训练和生成文本。以下是训练过程中的损失函数变化：",
        "![训练损失变化](https://raw.githubusercontent.com/your-github-username/your-repository-name/main/loss.png)",
        "从图中可以看出，损失函数随着训练次数的增加而逐渐减小，表明模型在不断优化。",
        "This is an example of generated text using the VAE-based text generation model.\nThe model has been trained on a dataset of 1000 sentences.\nIt is capable of generating coherent and meaningful text.\nHowever, the quality of the generated text may vary.\nPlease note that this is a simple example and more advanced techniques can be applied to improve the performance.",
    ],
    "6.1": "机器翻译是NLP领域的经典问题，大语言模型通过学习大量双语数据，能够实现高质量的双语翻译。例如，GPT-3在机器翻译任务中取得了显著的成果，能够在多种语言之间进行流畅的翻译。",
    "6.2": "文本生成是另一个重要的应用领域，大语言模型能够生成各种类型的文本，如新闻文章、故事、诗歌等。在娱乐和文学创作领域，大语言模型为创作者提供了有力的辅助工具。",
    "6.3": "问答系统是智能对话系统的重要组成部分，大语言模型能够通过学习大量的问答对，实现自动问答。例如，BERT在问答系统中的表现显著优于传统方法。",
    "6.4": "情感分析是分析文本中情感极性的过程，大语言模型通过学习大量的情感标签数据，能够实现高效的情感分析。例如，Twitter上的情感分析就是一个典型的应用场景。",
    "6.5": "内容推荐是电子商务和社交媒体中的重要功能，大语言模型通过分析用户的兴趣和行为，能够实现个性化内容推荐。例如，Amazon和Netflix等平台都采用了大语言模型进行内容推荐。",
    "7.1": [
        "1. **《自然语言处理综述》（Natural Language Processing with Deep Learning）**：这是一本非常适合初学者的入门书籍，详细介绍了深度学习在NLP中的应用。",
        "2. **《深度学习》（Deep Learning）**：由Ian Goodfellow等人编写的深度学习经典教材，涵盖了深度学习的基础理论和实践方法。",
    ],
    "7.2": [
        "1. **TensorFlow**：一个开源的深度学习框架，适用于各种深度学习任务的实现和部署。",
        "2. **PyTorch**：另一个流行的深度学习框架，以其灵活性和易用性受到许多研究者和开发者的喜爱。",
    ],
    "7.3": [
        '1. **"Attention is All You Need"**：这篇论文提出了Transformer模型，彻底改变了NLP领域的研究方向。',
        '2. **"BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"**：这篇论文提出了BERT模型，为NLP任务提供了强大的预训练方法。',
    ],
    "8.1": [
        "- **预训练模型**：预训练模型通过在大规模数据集上进行预训练，能够显著提高NLP任务的表现。",
        "- **多模态融合**：大语言模型与其他模态（如图像、音频）的融合，为多模态任务提供了新的研究方向。",
        "- **可解释性**：提高模型的解释性，使得模型在决策过程中的操作更加透明和可理解。",
    ],
    "8.2": [
        "- **更大规模的模型**：随着计算资源的提升，未来将出现更大规模的大语言模型。",
        "- **更精细的任务适应性**：通过微调和适应，大语言模型将在更多特定任务中取得突破。",
        "- **跨领域应用**：大语言模型在医疗、金融、教育等领域的应用将得到进一步拓展。",
    ],
    "8.3": [
        "- **数据隐私**：大规模数据集的收集和处理过程中，数据隐私和安全是一个重要挑战。",
        "- **计算资源**：大语言模型的训练和推理过程需要大量计算资源，如何在有限资源下高效运行是一个难题。",
        "- **模型可解释性**：提高模型的可解释性，使得研究人员和开发者能够更好地理解和优化模型。",
    ],
    "9.1": "大语言模型是一种基于深度学习的自然语言处理模型，通过学习海量文本数据，实现自然语言的理解和生成。",
    "9.2": "大语言模型广泛应用于机器翻译、文本生成、问答系统、情感分析、内容推荐等多个领域。",
    "9.3": "大语言模型的训练通常分为预训练和微调两个阶段。预训练是在大规模文本数据上进行训练，微调是在特定任务上进行训练，以提高模型的性能。",
    "9.4": "大语言模型面临的挑战包括数据隐私、计算资源、模型可解释性等。",
    "9.5": "未来大语言模型的发展趋势包括更大规模的模型、更精细的任务适应性和跨领域应用等。",
}


@dataclass(frozen=True)
class Erratum:
    """One error of the article: where it is, its words, what is wrong, the correction, where the course shows it.

    ``quote`` is a verbatim fragment of the article; ``notebook`` a notebook stem and ``heading`` the exact
    text of a Markdown heading in it. A notebook that does not exist yet makes the entry "planned".

    Defined in: notebooks/00_start_here.ipynb
    """

    section: str
    quote: str
    problem: str
    correction: str
    notebook: str
    heading: str

    @property
    def planned(self) -> bool:
        return not (NOTEBOOKS_DIR / f"{self.notebook}.ipynb").exists()

    @property
    def where(self) -> str:
        return "planned" if self.planned else f"{self.notebook} › {self.heading}"


E = Erratum
ERRATA: tuple[Erratum, ...] = (
    E(
        "1",
        "使得大语言模型在多个NLP任务中达到了甚至超过了人类的水平",
        "Only true of a few benchmarks, and not of GPT-3: BERT's SQuAD 1.1 F1 (93.2) passed the human baseline (91.2), "
        "but GPT-3 few-shot scored 71.8 on SuperGLUE against a human 89.8.",
        "Some fine-tuned models pass human baselines on some benchmarks; a benchmark score is not human-level language "
        "ability.",
        "01_background_ngram",
        "What §1 claims about GPT-3 and BERT",
    ),
    E(
        "2",
        "A --> C[注意力机制]",
        "The concept map draws attention beside context representation, as a separate route to generation.",
        "In a Transformer, attention *is* how the context representation of each token is computed.",
        "04_attention",
        "1. What the article's §2.3 says, and what it leaves out",
    ),
    E(
        "2.1",
        "词汇嵌入是将单词映射为高维向量表示的过程",
        "Calls the vectors high-dimensional and, in the next sentence, says the point is to lower the dimension; "
        "and it never says how the vectors come to encode meaning.",
        "An embedding maps each of V words to a short dense vector (d ≪ V) learned from prediction or counts, so "
        "words used alike get nearby vectors and share statistical strength.",
        "02_word_embeddings",
        "0. What §2.1 and §4.1.1 say",
    ),
    E(
        "2.2",
        "上下文表示是指通过神经网络模型将输入的文本序列映射为一个固定长度的向量表示",
        "Defines context representation as one fixed-length vector per text: that is a sentence embedding, and a "
        "bottleneck; language models keep one contextual vector per token.",
        "Modern models represent context as one vector per position, computed by attention over the others; a "
        "single pooled vector is used only for whole-text tasks such as classification.",
        "03_context_representation",
        "0. What §2.2 and §4.1.2 say",
    ),
    E(
        "2.4",
        "注意力机制在这一过程中起到关键作用",
        "§2.4 never says how text is generated (one token at a time, each predicted from the ones before), and the "
        "article's own generator (§5.2) contains no attention at all.",
        "Generation is next-token prediction repeated; attention is one way (the Transformer's) to read the "
        "context, an LSTM's recurrent state is another.",
        "05_text_generation",
        "0. What §2.4 says, and what it leaves out",
    ),
    E(
        "3",
        "大语言模型的核心算法是基于变分自编码器（VAE）和生成对抗网络（GAN）的深度学习模型",
        "Large language models are not built on VAEs or GANs; the article itself says they are pretrained "
        "Transformers (§7.3, §8.1, §9.3).",
        "LLMs are decoder-only Transformers trained by next-token prediction on unlabelled text, then fine-tuned.",
        "06_vae",
        "0 · What §3 claims, and what large language models really are",
    ),
    E(
        "3.1",
        "通过最大化数据分布的似然估计来生成数据",
        "A GAN has no likelihood to maximise, and a VAE maximises a lower bound on it (the ELBO), not the likelihood.",
        "VAEs maximise the ELBO; GANs play a minimax game whose optimum minimises the Jensen–Shannon divergence.",
        "06_vae",
        "1 · §3.2.1 The steps of a VAE, and the ELBO",
    ),
    E(
        "3.2.1",
        "3. **重参数化**：通过重参数化技巧，使得解码器能够从潜在空间中采样生成数据。",
        "The reparameterisation trick is not what lets the decoder sample; in training the *encoder's* posterior is "
        "sampled.",
        "z = μ + σ·ε moves the randomness into ε so the sample is differentiable in the encoder's μ and σ, giving "
        "low-variance gradients.",
        "06_vae",
        "4 · The reparameterisation trick and gradient variance",
    ),
    E(
        "3.3",
        "容易陷入局部最优",
        "A GAN is a two-player game: its failures are non-convergence (oscillation), vanishing gradients and mode "
        "dropping, not local optima of one loss.",
        "GAN training oscillates around a saddle point and can drop modes; the fixes change the game "
        "(non-saturating loss, regularisation), not the optimiser's start.",
        "07_gan",
        "6 · §3.3 Pros and cons: what we measured",
    ),
    E(
        "3.3",
        "GAN在生成数据时，可能会出现数据分布不均匀的问题",
        "Presented as a VAE-and-GAN comparison, §3.3 lists properties of GANs only; 'uneven distribution' is mode "
        "collapse, left unnamed.",
        "Mode collapse: the generator covers some modes of the data and drops others (counted in notebook 07).",
        "07_gan",
        "6 · §3.3 Pros and cons: what we measured",
    ),
    E(
        "3.4",
        "在大语言模型中，VAE用于文本生成，GAN则用于提高文本生成的质量和多样性",
        "Neither is used in large language models; text GANs struggle because sampling a word is not "
        "differentiable, and they trail maximum-likelihood models (Caccia et al. 2020).",
        "LLMs generate text autoregressively; quality and diversity are tuned by the sampler (temperature, top-p).",
        "07_gan",
        "5 · Why GANs for text are hard: sampling a word is not differentiable",
    ),
    E(
        "4.1.2",
        "其中 \\(x_t\\) 表示第 \\(t\\) 个单词的嵌入向量",
        "x_t is defined as an embedding vector, then Word2Vec is applied to it again in the pooling formula.",
        "h = (1/T) Σ_t e_{x_t}: the embedding lookup is applied once, to the word's id.",
        "03_context_representation",
        "0. What §2.2 and §4.1.2 say",
    ),
    E(
        "4.1.2",
        "\\mathbf{h} = \\frac{1}{T} \\sum_{t=1}^{T} \\text{Word2Vec}(x_t)",
        "Mean or max pooling ignores word order: 'not good, bad' and 'bad, not good' get the same vector.",
        "Pooling gives a bag-of-vectors summary; order-aware encoders (an RNN, attention with positions) are needed "
        "when order matters.",
        "03_context_representation",
        "What pooling loses: word order",
    ),
    E(
        "4.1.3.1",
        "L(\\theta) = \\frac{1}{N} \\sum_{n=1}^{N} \\left[ \\log p(\\mathbf{x}|\\mathbf{z}; \\theta) + \\lambda \\log "
        "p(\\mathbf{z}; \\theta) \\right]",
        "A log-likelihood minimised as a loss (wrong sign), with z from nowhere: no encoder q(z|x), no KL term, and "
        "λ·log p(z) only pushes codes to the prior's mode.",
        "The VAE minimises −ELBO = E_q[−log p(x|z)] + KL(q(z|x) ‖ p(z)).",
        "06_vae",
        "2 · The article's §4.1.3.1 objective, trained",
    ),
    E(
        "4.1.3.2",
        "GAN的训练目标是最大化生成器的损失函数和最小化判别器的损失函数",
        "Nobody maximises their own loss: the generator minimises its loss (it maximises the discriminator's error).",
        "min_G max_D E[log D(x)] + E[log(1 − D(G(z)))]: D minimises its loss, G minimises its own.",
        "07_gan",
        "3 · Minimax against non-saturating generator losses",
    ),
    E(
        "4.1.3.2",
        "L_G(\\theta_G) = -\\log D(\\mathbf{x}; \\theta_D)",
        "The generator's loss is computed on real data x only: it does not depend on θ_G, so its gradient is zero.",
        "L_G = −log D(G(z)) (non-saturating) or log(1 − D(G(z))) (minimax).",
        "07_gan",
        "2 · The article's generator loss does not contain the generator",
    ),
    E(
        "4.1.3.2",
        "L_D(\\theta_D) = -\\log (D(\\mathbf{x}; \\theta_D) + D(\\mathbf{G}(\\mathbf{z}; \\theta_G); \\theta_D))",
        "Minimised by D(x) = D(G(z)) = 1: it rewards the discriminator for calling fakes real.",
        "L_D = −log D(x) − log(1 − D(G(z))).",
        "07_gan",
        "1 · The discriminator's loss: the article's against the correct one",
    ),
    E(
        "4.2",
        "公式推导过程",
        "The 'derivations' derive nothing: they restate formulas (different ones from §4.1) with no step between.",
        "The ELBO follows from log p(x) = ELBO + KL(q(z|x) ‖ p(z|x)) ≥ ELBO; the GAN optimum from the optimal "
        "discriminator D* = p_data / (p_data + p_G).",
        "06_vae",
        "1 · §3.2.1 The steps of a VAE, and the ELBO",
    ),
    E(
        "4.2.1",
        "L_{\\text{enc}} = \\frac{1}{N} \\sum_{n=1}^{N} \\left[ \\|\\mathbf{x} - \\mathbf{z}\\|_2^2 + \\lambda "
        "\\|\\mathbf{z}\\|_2^2 \\right]",
        "Compares the data x with its code z (different sizes: undefined for text), and λ‖z‖² is a weight penalty, "
        "not the KL divergence to the prior.",
        "The encoder is trained through the ELBO only: its reconstruction term and KL(q(z|x) ‖ p(z)).",
        "06_vae",
        '3 · §4.2.1\'s "encoder loss" $\\lVert x - z\\rVert^2$ is not a VAE term',
    ),
    E(
        "4.2.1",
        "L_{\\text{dec}} = \\frac{1}{N} \\sum_{n=1}^{N} \\left[ \\|\\mathbf{x} - \\mathbf{x}^{\\prime}\\|_2^2 \\right]",
        "Separate encoder and decoder losses are not how a VAE trains, and squared error is the wrong likelihood "
        "for words.",
        "One objective trains both; for text the reconstruction term is the cross-entropy of the decoded words.",
        "06_vae",
        '3 · §4.2.1\'s "encoder loss" $\\lVert x - z\\rVert^2$ is not a VAE term',
    ),
    E(
        "4.3",
        "\\mathbf{h} = \\frac{1}{100} \\sum_{t=1}^{100} \\text{Word2Vec}(x_t)",
        "The case study computes the pooled vector h and then never uses it: its loss is written per word.",
        "A sentence VAE encodes the whole sequence (e.g. with an RNN) into q(z|x) and decodes words from z.",
        "06_vae",
        "7 · The §4.3 case study: mean-pooled word vectors into a VAE",
    ),
    E(
        "4.3",
        "通过不断优化模型参数，我们可以生成与原始文本序列相似的新的文本序列。",
        "A mean-pooled code cannot give back a sequence: a sentence and its shuffled words get the same code.",
        "Order must reach the latent code (an order-aware encoder) for the decoder to reproduce word order.",
        "06_vae",
        "7 · The §4.3 case study: mean-pooled word vectors into a VAE",
    ),
    E(
        "5",
        "我们将使用Python和TensorFlow来实现一个基于VAE的文本生成模型",
        "The program of §5.2 (and §5.3's reading of it) is an LSTM language model: no encoder, no latent variable, "
        "no KL term.",
        "It is an autoregressive LSTM language model trained by next-token cross-entropy.",
        "05_text_generation",
        "Defect 10: it is not a VAE",
    ),
    E(
        "5.2",
        "model.fit(x_train, y_train, batch_size=batch_size, epochs=10)",
        "np, x_train and y_train are used but never defined: the program cannot run.",
        "Import NumPy and build inputs and next-token targets from a corpus.",
        "05_text_generation",
        "Defect 1: names that are never defined",
    ),
    E(
        "5.2",
        "input_sequence = [1] * 10  # 输入序列",
        "A flat Python list is sliced as a 2-D array (current_sequence[:, :-1]): a TypeError.",
        "Pass a batch of one prompt, np.array([[...]]), and keep it an array.",
        "05_text_generation",
        "Defect 2: a list sliced as an array",
    ),
    E(
        "5.2",
        "predicted_word = np.argmax(predictions[:, -1, :])",
        "argmax without an axis flattens the batch: the id is only right for a batch of one.",
        "np.argmax(predictions[:, -1, :], axis=-1) gives one id per sequence.",
        "05_text_generation",
        "Defect 3: argmax without an axis",
    ),
    E(
        "5.2",
        "model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss='categorical_crossentropy')",
        "categorical_crossentropy expects one-hot targets; next-token targets are integer ids.",
        "sparse_categorical_crossentropy (in PyTorch: F.cross_entropy on logits).",
        "05_text_generation",
        "Defect 4: integer targets with categorical_crossentropy",
    ),
    E(
        "5.2",
        "current_sequence = np.concatenate([current_sequence[:, :-1], [[predicted_word]]], axis=1)",
        "[:, :-1] drops the newest token, not the oldest: the window keeps its stale start and loses what was just "
        "generated.",
        "Slide the window with [:, 1:], or carry the LSTM state and feed only the new token.",
        "05_text_generation",
        "Defect 5: the window drops the newest token",
    ),
    E(
        "5.2",
        "predictions = model.predict(current_sequence)",
        "Every step re-reads the whole 10-token window from scratch: the cost per new token is a full window, and the "
        "LSTM's state, which already summarises it, is thrown away.",
        "Carry the recurrent state (or a Transformer's key/value cache) and process one new token per step.",
        "05_text_generation",
        "Defect 6: re-reading the window at every step",
    ),
    E(
        "5.2",
        "generated_text += ' ' + str(predicted_word)",
        "The 'text' is a string of token ids, never decoded into words.",
        "Decode ids with the tokenizer's vocabulary.",
        "05_text_generation",
        "Defect 7: ids glued into a string",
    ),
    E(
        "5.2",
        "predicted_word = np.argmax(predictions[:, -1, :])",
        "Greedy decoding (always the most likely token) falls into loops.",
        "Sample with a temperature, top-k or top-p (nucleus) filtering.",
        "05_text_generation",
        "Defect 8: greedy decoding loops",
    ),
    E(
        "5.4",
        "![训练损失变化](https://raw.githubusercontent.com/your-github-username/your-repository-name/main/loss.png)",
        "The loss plot is a placeholder link that leads nowhere; no loss was ever shown.",
        "Plot the training and validation loss that a real run records.",
        "05_text_generation",
        "Defect 9: the loss plot and the sample text",
    ),
    E(
        "5.4",
        "This is an example of generated text using the VAE-based text generation model.",
        "The sample text is invented: the program prints a string of ids, and it was never trained (no data).",
        "Show what a trained model really generates (notebook 05 does, for an LSTM and a GPT).",
        "05_text_generation",
        "Defect 9: the loss plot and the sample text",
    ),
    E(
        "5.4",
        "假设我们有一个包含1000个单词的训练数据集",
        "A 1,000-word data set (the sample text says 1000 sentences) cannot fill a 10,000-word vocabulary or train "
        "a model of about 2.6 million parameters.",
        "Size the vocabulary from the data; the course's smallest corpus has 1.1 million characters.",
        "05_text_generation",
        "Defect 9: the loss plot and the sample text",
    ),
    E(
        "6.1",
        "大语言模型通过学习大量双语数据，能够实现高质量的双语翻译",
        "GPT-3 was not trained on bilingual data: its corpus was about 93% English, and it translates from a few "
        "examples in the prompt, far below supervised systems from English.",
        "Translation systems learn from parallel data; a language model can translate by continuing a prompt, and "
        "notebook 08 measures both on held-out sentences.",
        "08_translation",
        "§6.1's claim: GPT-3 and bilingual data",
    ),
    E(
        "6.3",
        "大语言模型能够通过学习大量的问答对，实现自动问答",
        "BERT was pretrained on unlabelled text and then fine-tuned to *read* a passage and point at the answer; "
        "it does not answer by having learned question–answer pairs.",
        "Reading comprehension: the answer is found in the given text by attention; notebook 09 shows where the "
        "model looks.",
        "09_question_answering",
        "§6.3's claim: learning question–answer pairs",
    ),
    E(
        "6.5",
        "Amazon和Netflix等平台都采用了大语言模型进行内容推荐",
        "No source, and not how these systems were built: Amazon's item-to-item collaborative filtering (Linden et "
        "al. 2003) and Netflix's matrix factorisation are not language models.",
        "Recommendation can be cast as next-item prediction with a Transformer (SASRec), but strong simple baselines "
        "often match it on small data.",
        "10_recommendation",
        "§6.5's claim: Amazon, Netflix and language models",
    ),
    E(
        "7.1",
        "**《自然语言处理综述》（Natural Language Processing with Deep Learning）**",
        "The Chinese title ('A survey of NLP') and the English one do not name the same work, and 'Natural Language "
        "Processing with Deep Learning' is Stanford's CS224N course, not a book.",
        "For a book: Jurafsky & Martin, Speech and Language Processing (3rd ed. draft), or Goldberg, Neural Network "
        "Methods for Natural Language Processing (2017).",
        "13_review",
        "§7.1 Books: the right titles",
    ),
    E(
        "8.1",
        "- **可解释性**：提高模型的解释性，使得模型在决策过程中的操作更加透明和可理解。",
        "Listed as a research achievement in §8.1, then as an open challenge in §8.3: it cannot be both.",
        "Interpretability is an open problem: probes and attributions give partial, checkable evidence (notebook 12).",
        "12_scale_privacy_interpretability",
        "Interpretability: achievement or challenge?",
    ),
    E(
        "9.3",
        "大语言模型的训练通常分为预训练和微调两个阶段",
        "Right, and it contradicts §3: pretraining a Transformer by next-token (or masked-token) prediction is not a "
        "VAE or a GAN.",
        "Pretrain on unlabelled text, then fine-tune on a task; notebook 11 measures what pretraining buys.",
        "11_pretraining_finetuning",
        "§9.3 and §8.1: pretraining, then fine-tuning",
    ),
    E(
        "0",
        "### 完整文章",
        "The article is printed twice: a first version and, after '完整文章', a 'complete' second one with small "
        "differences in wording.",
        "The course quotes the second version where the two differ.",
        "00_start_here",
        "The article, and its errata",
    ),
)
del E


def quote(section: str, index: int | None = None) -> str:
    """The verbatim passage of ``section`` (the ``index``-th one when the section has several).

    Defined in: notebooks/00_start_here.ipynb
    """
    check_text(section, "section")
    if index is not None:
        index = check_int(index, "index", min=0)
    if section not in QUOTES:
        raise ArgumentError(f"no quotation for section {section!r}; quoted sections: {', '.join(QUOTES)}")
    value = QUOTES[section]
    if isinstance(value, str):
        if index not in (None, 0):
            raise ArgumentError(f"section {section} has one quoted passage; index must be None or 0")
        return value
    if index is None:
        return "\n".join(value)
    if not 0 <= index < len(value):
        raise ArgumentError(f"section {section} has {len(value)} quoted passages; index must be 0..{len(value) - 1}")
    return value[index]


def show_quote(section: str, index: int | None = None, note: str = ""):
    """The passage as a Markdown block quote headed by its section and heading, for a notebook cell.

    Formulas show as LaTeX, the §5.2 program as a code block.

    Defined in: notebooks/00_start_here.ipynb
    """
    from IPython.display import Markdown

    check_text(note, "note")
    text = quote(section, index)
    heading = HEADINGS.get(section, "")
    if section == "5.2":
        body = "```python\n" + text + "\n```"
    else:
        parts = text.split("\n") if index is None and not isinstance(QUOTES[section], str) else [text]
        body = "\n>\n".join(f"> $${p}$$" if _is_formula(p) else f"> {p}" for p in parts)
    title = f"**§{section} {heading}**" if section != "0" else "**The article**"
    return Markdown(f"{title}{(' — ' + note) if note else ''}\n\n{body}")


def _is_formula(passage: str) -> bool:
    """A display formula: LaTeX with no Chinese in it (inline maths inside a sentence stays in the sentence)."""
    return "\\" in passage and not re.search(r"[\u4e00-\u9fff]", passage)


def errata_table():
    """The errata as a DataFrame: section, what the article says, what is wrong, the correction, where shown.

    Defined in: notebooks/00_start_here.ipynb
    """
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "§": e.section,
                "the article says": e.quote,
                "what is wrong": e.problem,
                "what is right": e.correction,
                "where the course shows it": e.where,
            }
            for e in ERRATA
        ]
    )
