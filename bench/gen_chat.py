#!/usr/bin/env python3
"""Deterministic generator of the `make bench` data set: a chat fine-tuning JSONL.

Portuguese-ish accounting FAQ: system/user/assistant, some multi-turn examples, Zipf-
distributed vocabulary with a long tail of synthetic names (so a piece cache cannot see
every word in advance), numbers, money (`R$ 4,8 milhões`), dates, CNPJs, Markdown lists
and tables, a little code and emoji; most examples are short (median ~120 tokens) and a
few are long documents (up to ~4,000 tokens).

Only `random.Random(seed).random()` is used, so the output is byte-identical for the same
seed on any CPython 3.

Usage: python3 bench/gen_chat.py OUT.jsonl [--examples 200000] [--seed 42]
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys

WORDS = """
a o e de da do das dos em no na nos nas um uma para por com sem sobre entre até desde
que se não mais menos muito pouco como quando onde qual quais quanto cada todo toda todos
empresa empresas contador contadora contabilidade escritório cliente clientes sócio sócios
imposto impostos tributo tributos alíquota alíquotas faturamento receita bruta anual mensal
Simples Nacional MEI microempreendedor individual lucro presumido real arbitrado regime
tributação enquadramento desenquadramento exclusão opção prazo prazos vencimento multa
juros mora atraso parcelamento débito débitos crédito créditos restituição compensação
declaração declarações obrigação obrigações acessória acessórias entrega envio recibo
nota fiscal notas fiscais eletrônica serviço serviços produto produtos mercadoria venda
vendas compra compras estoque inventário balanço balancete demonstração resultado DRE
folha pagamento salário salários férias décimo terceiro rescisão admissão demissão aviso
prévio FGTS INSS IRRF IRPJ CSLL PIS COFINS ICMS ISS IPI DAS DARF GPS DCTFWeb eSocial
EFD Reinf SPED ECD ECF DEFIS DASN SIMEI PGDAS CNPJ CPF CNAE Receita Federal prefeitura
estado município secretaria fazenda portal sistema certificado digital procuração acesso
senha código gov.br conta banco bancária pix boleto transferência depósito pagamento
valor valores total parcela parcelas mês meses ano anos dia dias data datas período
competência exercício trimestre semestre janeiro fevereiro março abril maio junho julho
agosto setembro outubro novembro dezembro segunda terça quarta quinta sexta sábado domingo
preciso posso devo pode deve precisa tenho tem temos têm foi será seria fica ficam pago
pagar pagou emitir emiti emitida emissão calcular cálculo calculado informar informado
enviar enviado consultar consulta verificar verificação confirmar confirmação solicitar
solicitação abrir abertura fechar encerramento baixa alteração contrato social capital
sede filial matriz endereço telefone e-mail responsável técnico contábil fiscal pessoal
trabalhista previdenciário societário jurídico tributário gerencial financeiro caixa
também ainda já apenas somente sempre nunca depois antes agora hoje amanhã ontem logo
porém entretanto contudo portanto assim então caso conforme segundo porque pois embora
é são está estão era foram havia há houve ser estar ter haver fazer feito faz fazem
sim não talvez claro exemplo observação atenção importante necessário obrigatório
documento documentos comprovante comprovantes planilha relatório relatórios guia guias
funcionário funcionários empregado empregados empregador estagiário aprendiz autônomo
pró-labore distribuição lucros dividendos retirada investimento despesa despesas custo
custos dedução deduções dedutível isenção isento isenta tabela faixa anexo anexos fator
limite excesso sublimite receita receitas bruta acumulada últimos doze meses RBT12
atividade atividades comércio indústria locação bens móveis imóveis construção civil
medicina odontologia advocacia engenharia arquitetura consultoria tecnologia software
saúde educação transporte alimentação restaurante padaria farmácia mercado loja oficina
você vocês senhor senhora nosso nossa nossos nossas seu sua seus suas meu minha dele dela
""".split()

EN_WORDS = """
the a of to and in is it you that he was for on are with as I his they be at one have
this from or had by hot word but what some we can out other were all there when up use
your how said an each she which do their time if will way about many then them write
would like so these her long make thing see him two has look more day could go come did
number sound no most people my over know water than call first who may down side been
""".split()

SYLLABLES = ("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga go gu la le li lo lu "
             "ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti "
             "to tu va ve vi vo xa xe za ze ção ções nha nho lha lho que qui gue gui tra tre pro "
             "bra bre cla cre fla gra gre pla pre tro ão ães ém ás ós ú í â ê ô").split()

EMOJI = ["🙂", "👍", "✅", "⚠️", "📄", "💰", "📅", "🇧🇷", "👨‍💼", "🧾"]
CJK = ["請參考附件", "会计", "税金の計算", "세금 신고"]
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|fim_prefix|>", "<|endofprompt|>"]

SYSTEM_PROMPTS = [
    "Você é o assistente virtual do escritório {firm}. Responda dúvidas de clientes sobre "
    "contabilidade, impostos e folha de pagamento de forma clara, educada e objetiva, em "
    "português do Brasil. Se não souber a resposta, oriente o cliente a falar com o contador "
    "responsável.",
    "Você é um assistente contábil da {firm}. Use linguagem simples; cite prazos e valores "
    "apenas quando tiver certeza.",
    "Assistente de atendimento da {firm} Contabilidade. Responda em português, no máximo em "
    "três parágrafos, e nunca peça senhas ou dados do certificado digital.",
    "You are a helpful assistant for {firm}, a Brazilian accounting firm. Answer in Portuguese.",
]
FIRMS = ["Contábil Silva & Souza", "Escritório Andrade", "Pereira Assessoria Contábil",
         "Contabilidade São João", "Macêdo & Associados", "Conta Certa", "Fiscal Fácil Ltda.",
         "Nogueira Contadores", "Ribeiro & Irmãos", "Contabilize-se"]

QUESTION_STARTS = ["Como faço para", "Qual é o prazo para", "Preciso", "Posso", "O que acontece se eu não",
                   "Quanto custa", "Onde encontro", "É obrigatório", "Quando devo", "Por que",
                   "Vocês podem", "Bom dia, gostaria de saber se posso", "Oi! Tenho uma dúvida:",
                   "Olá, boa tarde. Como", "Qual a alíquota do", "Meu MEI", "Minha empresa"]


class Gen:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        # long tail: synthetic words and names, Zipf-weighted after the real vocabulary
        synth = []
        for _ in range(30000):
            n = 2 + int(self.rand() * 3)
            synth.append("".join(self.pick(SYLLABLES) for _ in range(n)))
        vocab = WORDS + synth
        weights = [1.0 / (i + 1) ** 1.05 for i in range(len(vocab))]
        total = sum(weights)
        acc, self.cum = 0.0, []
        for w in weights:
            acc += w / total
            self.cum.append(acc)
        self.vocab = vocab
        self.names = [w.capitalize() for w in synth[:5000]]

    def rand(self) -> float:
        return self.r.random()

    def int(self, lo: int, hi: int) -> int:   # inclusive
        return lo + int(self.rand() * (hi - lo + 1))

    def pick(self, seq):
        return seq[int(self.rand() * len(seq))]

    def word(self) -> str:
        x = self.rand()
        lo, hi = 0, len(self.cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cum[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return self.vocab[lo]

    def money(self) -> str:
        k = self.rand()
        if k < 0.3:
            return f"R$ {self.int(1, 999)},{self.int(0, 99):02d}"
        if k < 0.6:
            return f"R$ {self.int(1, 999)}.{self.int(0, 999):03d},{self.int(0, 99):02d}"
        if k < 0.8:
            return f"R$ {self.int(1, 9)},{self.int(1, 9)} milhões"
        return f"R$ {self.int(1, 999)} mil"

    def token_like(self) -> str:
        k = self.rand()
        if k < 0.25:
            return self.money()
        if k < 0.45:
            return f"{self.int(1, 28):02d}/{self.int(1, 12):02d}/{self.int(2019, 2026)}"
        if k < 0.6:
            return f"{self.int(0, 30)},{self.int(0, 99):02d}%"
        if k < 0.7:
            return (f"{self.int(10, 99)}.{self.int(100, 999)}.{self.int(100, 999)}/0001-"
                    f"{self.int(10, 99)}")
        if k < 0.8:
            return f"art. {self.int(1, 400)}, § {self.int(1, 9)}º"
        if k < 0.9:
            return str(self.int(0, 100000))
        return self.pick(self.names)

    def sentence(self, n_words: int) -> str:
        out = []
        for i in range(n_words):
            k = self.rand()
            if k < 0.07:
                out.append(self.token_like())
            elif k < 0.075:
                out.append(self.pick(EN_WORDS) + self.pick(["'s", "'ll", "'LL", "'re", "n't", "'ve"]))
            else:
                out.append(self.word())
            if i and self.rand() < 0.06:
                out[-1] += ","
        s = " ".join(out)
        s = s[0].upper() + s[1:]
        r = self.rand()
        end = "." if r < 0.85 else ("!" if r < 0.9 else (":" if r < 0.95 else "..."))
        if self.rand() < 0.01:
            s += " " + self.pick(EMOJI)
        if self.rand() < 0.002:
            s += " " + self.pick(CJK)
        if self.rand() < 0.001:
            s += " " + self.pick(SPECIAL)
        return s + end

    def paragraph(self, n_sent: int) -> str:
        return " ".join(self.sentence(self.int(5, 18)) for _ in range(n_sent))

    def question(self) -> str:
        q = self.pick(QUESTION_STARTS) + " " + self.sentence(self.int(3, 14))[:-1].lower().rstrip(",.:") + "?"
        if self.rand() < 0.2:
            q = self.sentence(self.int(5, 15)) + " " + q
        if self.rand() < 0.05:
            q = q.replace(" ", "  ", 1) + "\n\n" + self.sentence(self.int(3, 8))
        return q

    def table(self) -> str:
        rows = ["| Faixa | Receita bruta em 12 meses | Alíquota | Valor a deduzir |",
                "|---|---|---:|---:|"]
        for i in range(self.int(3, 6)):
            rows.append(f"| {i + 1}ª | até {self.money()} | {self.int(4, 33)},{self.int(0, 99):02d}% | "
                        f"{self.money()} |")
        return "\n".join(rows)

    def code(self) -> str:
        k = self.rand()
        if k < 0.4:
            return ("```python\ndef aliquota_efetiva(rbt12, aliquota, deducao):\n"
                    f"    return (rbt12 * aliquota - deducao) / rbt12  # {self.word()}\n\n"
                    f"print(aliquota_efetiva({self.int(100000, 4800000)}, 0.{self.int(4, 33):02d}, "
                    f"{self.int(0, 99999)}))\n```")
        if k < 0.7:
            return ("```json\n{\"cnpj\": \"" + f"{self.int(10, 99)}.{self.int(100, 999)}.{self.int(100, 999)}"
                    "/0001-" + f"{self.int(10, 99)}\", \"competencia\": \"{self.int(1, 12):02d}/2025\", "
                    f"\"valor\": {self.int(1, 9999)}.{self.int(0, 99):02d}}}\n```")
        return ("```\nCNPJ;Razão social;Valor\n" +
                "\n".join(f"{self.int(10, 99)}.{self.int(100, 999)}.{self.int(100, 999)}/0001-{self.int(10, 99)};"
                          f"{self.pick(self.names)} {self.pick(['Ltda', 'ME', 'EIRELI', 'S.A.'])};"
                          f"{self.int(1, 99999)},{self.int(0, 99):02d}" for _ in range(self.int(2, 6))) + "\n```")

    def answer(self, long: bool) -> str:
        if long:
            parts = []
            for _ in range(self.int(6, 34)):
                k = self.rand()
                if k < 0.1:
                    parts.append(f"## {self.sentence(self.int(2, 6))[:-1]}")
                elif k < 0.2:
                    parts.append("\n".join(f"- {self.sentence(self.int(4, 14))}" for _ in range(self.int(2, 6))))
                elif k < 0.25:
                    parts.append(self.table())
                elif k < 0.28:
                    parts.append(self.code())
                else:
                    parts.append(self.paragraph(self.int(2, 6)))
            return "\n\n".join(parts)
        # short answers: lognormal number of sentences, median ~3
        n = max(1, min(14, int(math.exp(0.75 + 0.6 * self.gauss()))))
        k = self.rand()
        if k < 0.08:
            return self.paragraph(max(1, n // 2)) + "\n\n" + "\n".join(
                f"{i + 1}. {self.sentence(self.int(3, 12))}" for i in range(self.int(2, 5)))
        if k < 0.1:
            return self.sentence(self.int(5, 12)) + "\n\n" + self.table()
        if k < 0.11:
            return self.sentence(self.int(5, 12)) + "\n\n" + self.code()
        if k < 0.2:
            return "\n\n".join(self.paragraph(self.int(1, 3)) for _ in range(max(1, n // 2)))
        return self.paragraph(n)

    def gauss(self) -> float:
        # Box-Muller on our own random() so the stream stays version-independent
        u1 = max(self.rand(), 1e-12)
        u2 = self.rand()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def example(self) -> dict:
        msgs = []
        k = self.rand()
        if k < 0.85:
            msgs.append({"role": "system", "content": self.pick(SYSTEM_PROMPTS).format(firm=self.pick(FIRMS))})
        elif k < 0.9:
            msgs.append({"role": "system", "content": f"Cliente: {self.pick(self.names)} "
                         f"{self.pick(self.names)}. " + self.sentence(self.int(8, 25))})
        long = self.rand() < 0.025
        turns = 1 if self.rand() < 0.85 else self.int(2, 3)
        for t in range(turns):
            user = {"role": "user", "content": self.question()}
            if self.rand() < 0.02:
                user["name"] = self.pick(self.names).lower()
            msgs.append(user)
            asst = {"role": "assistant", "content": self.answer(long and t == turns - 1)}
            if turns > 1 and t < turns - 1 and self.rand() < 0.5:
                asst["weight"] = 0
            msgs.append(asst)
        return {"messages": msgs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--examples", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    g = Gen(args.seed)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for _ in range(args.examples):
            f.write(json.dumps(g.example(), ensure_ascii=False) + "\n")
    import os
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
