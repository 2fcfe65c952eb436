# Writes the two hand-made XLSX seeds (stored and deflated) of the spreadsheet fuzz target:
# a title sheet without questions, then a FAQ sheet with a title row, shared and inline
# strings, a number, a boolean, a date serial and an error cell. python3 make_xlsx_seeds.py
import zipfile, sys
ct = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'''
rels = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'''
wb = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Capa" sheetId="1" r:id="rId1"/><sheet name="FAQ" sheetId="2" r:id="rId2"/></sheets></workbook>'''
wbrels = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'''
ss = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="6" uniqueCount="6"><si><t>Perguntas frequentes — Simples Nacional</t></si><si><t>Pergunta</t></si><si><t>Resposta</t></si><si><t>Quem pode optar pelo Simples?</t></si><si><t>ME e EPP com receita bruta anual até R$ 4,8 milhões.</t></si><si><t>Tema</t></si></sst>'''
s1 = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Sem perguntas aqui</t></is></c></row></sheetData></worksheet>'''
s2 = '''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3" t="s"><v>2</v></c><c r="C3" t="s"><v>5</v></c></row><row r="4"><c r="A4" t="s"><v>3</v></c><c r="B4" t="s"><v>4</v></c><c r="C4" t="n"><v>4.8</v></c></row><row r="5"><c r="A5" t="inlineStr"><is><t>O que é o DAS?</t></is></c><c r="B5" t="inlineStr"><is><t>Documento de Arrecadação do Simples Nacional.</t></is></c><c r="C5" t="b"><v>1</v></c></row><row r="6"><c r="A6" t="str"><v>Data de corte?</v></c><c r="B6"><v>45292</v></c><c r="C6" t="e"><v>#N/A</v></c></row></sheetData></worksheet>'''
def mk(name, comp):
    with zipfile.ZipFile(name, 'w', comp) as z:
        for n, d in [('[Content_Types].xml', ct), ('_rels/.rels', rels), ('xl/workbook.xml', wb), ('xl/_rels/workbook.xml.rels', wbrels), ('xl/sharedStrings.xml', ss), ('xl/worksheets/sheet1.xml', s1), ('xl/worksheets/sheet2.xml', s2)]:
            z.writestr(n, d.encode())
import os
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "seeds", "spreadsheet")
mk(os.path.join(out, "faq-stored.xlsx"), zipfile.ZIP_STORED)
mk(os.path.join(out, "faq-deflate.xlsx"), zipfile.ZIP_DEFLATED)
