"""Lesson 14, an RNN classifier: the course's program: a bidirectional GRU reads a surname and names its country.

Reads names_train.csv.gz and names_test.csv.gz (surname, country) from the data folder.
"""

import csv
import gzip
import os
import random
import sys
import unicodedata

import torch
from torch.nn.utils.rnn import pack_padded_sequence

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
hidden_size = 100  # param: size of the embedding and of the GRU's hidden state
n_layers = 2  # param: GRU layers
bidirectional = True  # param: bidirectional GRU
batch_size = 256  # param: names per batch
lr = 0.001  # param: learning rate (Adam)
epochs = 100  # param: number of epochs
predict = None  # param: surnames to try after training, comma-separated (None: none)
load = ''  # param: answer with a labapp run's best checkpoint (its folder, or a .pt file) instead of training
seed = 0  # option
device = 'cpu'  # option: 'auto' picks cuda, then mps, then cpu
threads = 1  # option: torch's cpu threads (None: torch's default)
data_dir = '.'  # option: the folder with the course's data files; $LABAPP_DATA_DIR overrides it

N_CHARS = 128  # the embedding's rows: one per ASCII code
# Letters that NFKD does not split into an ASCII letter and an accent.
ASCII_EXTRA = str.maketrans({'ß': 'ss', 'æ': 'ae', 'Æ': 'AE', 'œ': 'oe', 'Œ': 'OE', 'ø': 'o', 'Ø': 'O',
                             'ł': 'l', 'Ł': 'L', 'đ': 'd', 'Đ': 'D', 'ð': 'd', 'þ': 'th', 'ı': 'i'})


# -- the data --------------------------------------------------------------------------------------
def to_ascii(name):
    """`name` in the embedding's 128 codes: accents dropped (Müller -> Muller), anything else left out."""
    decomposed = unicodedata.normalize('NFKD', name.strip().translate(ASCII_EXTRA))
    return ''.join(ch for ch in decomposed if ord(ch) < N_CHARS)


def read_names(filename):
    """(surname, country) rows: gzip, CSV with quoted fields (two surnames hold a comma)."""
    path = os.path.join(os.environ.get('LABAPP_DATA_DIR') or data_dir, filename)
    if not os.path.isfile(path):
        sys.exit(f'{path} is missing: put the course file {filename} there, or set LABAPP_DATA_DIR')
    with gzip.open(path, 'rt', encoding='utf-8', newline='') as f:
        return [(to_ascii(row[0]), row[1]) for row in csv.reader(f) if len(row) >= 2]


def make_tensors(names, labels):
    """Codes padded with 0 (N, longest), lengths (N,) and labels (N,)."""
    lengths = torch.tensor([len(name) for name in names])
    seq = torch.zeros(len(names), int(lengths.max()), dtype=torch.long)
    for i, name in enumerate(names):
        seq[i, :len(name)] = torch.tensor([ord(ch) for ch in name])
    return seq, lengths, torch.tensor(labels)


def sorted_batch(seq, lengths, labels, idx):
    """The names at `idx`, longest first as pack_padded_sequence wants them, cut to the longest."""
    lengths, order = lengths[idx].sort(descending=True)
    idx = idx[order]
    return seq[idx, :int(lengths[0])], lengths, labels[idx]


# -- the model -------------------------------------------------------------------------------------
class RNNClassifier(torch.nn.Module):
    def __init__(self, hidden_size, n_layers, bidirectional, n_countries):
        super().__init__()
        self.hidden_size, self.n_layers = hidden_size, n_layers
        self.n_directions = 2 if bidirectional else 1
        self.embedding = torch.nn.Embedding(N_CHARS, hidden_size)
        self.gru = torch.nn.GRU(hidden_size, hidden_size, n_layers, bidirectional=bidirectional)
        self.fc = torch.nn.Linear(hidden_size * self.n_directions, n_countries)

    def forward(self, input, seq_lengths):  # input (batch, seq_len), longest name first
        input = input.t()  # (seq_len, batch)
        hidden = torch.zeros(self.n_layers * self.n_directions, input.size(1), self.hidden_size,
                             device=input.device)
        embedding = self.embedding(input)  # (seq_len, batch, hidden_size)
        gru_input = pack_padded_sequence(embedding, seq_lengths.cpu())  # lengths on the cpu, even for cuda
        output, hidden = self.gru(gru_input, hidden)  # hidden (n_layers * n_directions, batch, hidden_size)
        if self.n_directions == 2:
            hidden_cat = torch.cat([hidden[-1], hidden[-2]], dim=1)  # (batch, 2 * hidden_size)
        else:
            hidden_cat = hidden[-1]  # (batch, hidden_size)
        fc_output = self.fc(hidden_cat)  # (batch, n_countries)
        return fc_output


# -- testing and trying ------------------------------------------------------------------------------
def test(model, seq, lengths):
    """The predicted country of every name (the names sorted longest first, as packing wants)."""
    model.eval()
    with torch.no_grad():
        predicted = [model(seq[i:i + 1024, :int(lengths[i])].to(device), lengths[i:i + 1024]).argmax(dim=1).cpu()
                     for i in range(0, len(lengths), 1024)]
    model.train()
    return torch.cat(predicted)


def top3(model, countries, text):
    """Print the top 3 countries with their probabilities for each comma-separated name of `text`."""
    model.eval()
    for name in text.split(','):
        name, readable = name.strip(), to_ascii(name)
        if not readable:
            print(name or '(empty)', ':', 'no name given' if not name else 'no Latin letters')
            continue
        codes = torch.tensor([[ord(ch) for ch in readable]], device=device)  # (1, seq_len)
        with torch.no_grad():
            probabilities = model(codes, torch.tensor([len(readable)])).softmax(dim=1)[0]
        top = probabilities.topk(min(3, len(probabilities)))
        print(name, ':', ', '.join(f'{countries[i]} {p:.1%}' for p, i in zip(top.values.tolist(), top.indices.tolist())))


def main():
    global device
    random.seed(seed)
    torch.manual_seed(seed)
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'mps' if torch.backends.mps.is_available() else 'cpu'
    device = torch.device(device)
    if threads:
        torch.set_num_threads(threads)

    if load:  # no training: the model of a labapp run's checkpoint answers
        path = os.path.join(load, 'checkpoint-best.pt') if os.path.isdir(load) else load
        saved = torch.load(path, map_location='cpu', weights_only=True)
        params, countries = saved['params'], saved['state']['countries']
        model = RNNClassifier(params['hidden_size'], params['n_layers'], params['bidirectional'], len(countries))
        model.load_state_dict(saved['state']['model'])
        model.to(device)
        print(f"loaded {path}: trained {saved['epoch']} epochs, test accuracy {saved['metric']['value']:.1%}")
        if predict is not None:
            top3(model, countries, predict)
        return

    train_rows = [row for row in read_names('names_train.csv.gz') if row[0]]
    countries = sorted({country for _, country in train_rows})
    index = {country: i for i, country in enumerate(countries)}
    test_rows = [row for row in read_names('names_test.csv.gz') if row[0] and row[1] in index]
    train_seq, train_len, train_y = make_tensors(*zip(*[(n, index[c]) for n, c in train_rows]))
    test_seq, test_len, test_y = make_tensors(*zip(*[(n, index[c]) for n, c in test_rows]))
    order = test_len.argsort(descending=True)  # sorted once: every test batch is then longest first
    test_seq, test_len, test_y = test_seq[order], test_len[order], test_y[order]
    print(f'{len(train_rows)} training names, {len(test_rows)} test names, {len(countries)} countries')

    model = RNNClassifier(hidden_size, n_layers, bidirectional, len(countries)).to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    shuffle = torch.Generator().manual_seed(seed)  # the order of the names in each epoch

    for epoch in range(1, epochs + 1):
        loss_sum = 0.0
        for idx in torch.randperm(len(train_y), generator=shuffle).split(batch_size):
            inputs, lengths, target = sorted_batch(train_seq, train_len, train_y, idx)
            output = model(inputs.to(device), lengths)  # lengths stay on the cpu
            loss = criterion(output, target.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
        predicted = test(model, test_seq, test_len)
        accuracy = float((predicted == test_y).float().mean())
        print(f'[epoch {epoch}] loss {loss_sum / len(train_y):.4f}  accuracy on test set {accuracy:.1%}')

    if predict is not None:
        top3(model, countries, predict)
    print(f'final train: loss {loss_sum / len(train_y):.5g}')
    print(f'final test: accuracy {accuracy:.5g}')


if __name__ == '__main__':
    main()
