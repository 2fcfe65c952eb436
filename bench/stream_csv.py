#!/usr/bin/env python3
"""A large FAQ spreadsheet export for measuring `afinar convert`'s memory (issue 18).

Deterministic (fixed seed): the same arguments give the same bytes. Portuguese FAQ
phrasing assembled from domain phrases, `;` delimited, CRLF, quoted multi-line answers
with commas and quotes, a title row above the header, blank rows and a few rows with an
empty answer (rejects), the way office exports look.

    python3 bench/stream_csv.py 200000 /tmp/faq-200k.csv            # UTF-8, ~112 MB
    python3 bench/stream_csv.py 200000 /tmp/faq-cp1252.csv --cp1252  # Windows-1252
"""
import random
import sys

TEMAS = ["MEI", "Simples Nacional", "DAS", "Folha de pagamento", "IRPF", "ICMS",
         "Nota fiscal", "eSocial", "Abertura de empresa", "Pró-labore"]
INICIOS = ["Como faço para", "Posso", "Qual o prazo para", "Onde consigo",
           "É obrigatório", "O que acontece se eu não", "Quanto custa", "Quem pode",
           "Até quando devo", "Preciso de contador para"]
ACOES = ["emitir a nota fiscal de serviço", "pagar o DAS em atraso",
         "declarar o faturamento anual do MEI", "optar pelo Simples Nacional",
         "incluir um sócio na empresa", "calcular o pró-labore", "parcelar débitos",
         "enviar a DCTFWeb", "regularizar o CNPJ suspenso", "mudar de MEI para ME",
         "recolher o FGTS do funcionário", "entregar a declaração do imposto de renda"]
FRASES = ["A receita bruta anual não pode passar de R$ 4,8 milhões.",
          "O prazo vence no dia 20 do mês seguinte ao da competência.",
          "Você pode gerar a guia pelo Portal do Simples Nacional, com o código de acesso.",
          "Se houver atraso, incidem multa de 0,33% ao dia e juros pela taxa Selic.",
          "O MEI pode faturar até R$ 81 mil por ano, ou R$ 6.750,00 por mês.",
          "Guarde os comprovantes por pelo menos cinco anos, para o caso de fiscalização.",
          "Consulte o contador antes de alterar a atividade (CNAE) da empresa.",
          "A opção é feita em janeiro e vale para o ano-calendário inteiro.",
          "Atenção: o \"Simples\" não dispensa a escrituração do livro-caixa.",
          "Empresas com sócio no exterior não podem optar pelo regime.",
          "O pró-labore tem contribuição de 11% para o INSS, descontada do sócio.",
          "Na dúvida, abra um chamado no portal do escritório, informando o CNPJ."]


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    encoding = "cp1252" if "--cp1252" in sys.argv else "utf-8"
    rng = random.Random(2026)
    with open(out, "w", encoding=encoding, newline="") as f:
        f.write("Perguntas frequentes do escritório (exportado do sistema);;;\r\n")
        f.write("Tema;Pergunta;Resposta;Atualizado em\r\n")
        for i in range(n):
            if i % 997 == 500:
                f.write(";;;\r\n")
            tema = rng.choice(TEMAS)
            pergunta = f"{rng.choice(INICIOS)} {rng.choice(ACOES)} ({tema}, caso {i})?"
            partes = [rng.choice(FRASES) for _ in range(rng.randint(3, 10))]
            if rng.random() < 0.3:
                resposta = "\r\n".join(partes)
            else:
                resposta = " ".join(partes)
            if i % 1999 == 7:
                resposta = ""
            data = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2026"
            q = '"' + pergunta.replace('"', '""') + '"'
            a = '"' + resposta.replace('"', '""') + '"'
            f.write(f"{tema};{q};{a};{data}\r\n")


if __name__ == "__main__":
    main()
