"""Lesson 13, basic RNN: the course's program: learn to turn "hello" into "ohlol".

Variants: 'rnncell' (one-hot input, RNNCell(4, 4), one step at a time), 'rnn' (the same model as
one nn.RNN call over the sequence) and 'embedding' (Embedding(4, 10), a 2-layer RNN(10, 8), Linear(8, 4)).
"""

import random

import torch

# -- settings: the lesson's params and the run's options (labapp code writes them in) -----------
variant = 'rnncell'  # param: 'rnncell', 'rnn' or 'embedding'
lr = None  # param: learning rate (None: the course's, 0.1 for rnncell, 0.05 for rnn and embedding)
epochs = 15  # param: number of epochs
seed = 0  # option
device = 'cpu'  # option: 'auto' picks cuda, then mps, then cpu
threads = 1  # option: torch's cpu threads (None: torch's default)

random.seed(seed)
torch.manual_seed(seed)
if device == 'auto':
    device = 'cuda' if torch.cuda.is_available() else 'mps' if torch.backends.mps.is_available() else 'cpu'
device = torch.device(device)
if threads:
    torch.set_num_threads(threads)
if lr is None:
    lr = {'rnncell': 0.1, 'rnn': 0.05, 'embedding': 0.05}[variant]

# -- the data: the letters e, h, l, o are 0-3 --------------------------------------------------------
input_size, hidden_size, batch_size, seq_len = 4, 4, 1, 5
num_class, embedding_size, emb_hidden_size, num_layers = 4, 10, 8, 2
idx2char = ['e', 'h', 'l', 'o']
x_data = [1, 0, 2, 2, 3]  # "hello"
y_data = [3, 1, 2, 3, 2]  # "ohlol"
one_hot_lookup = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]

if variant == 'embedding':
    inputs = torch.tensor([x_data], device=device)  # (batch, seq_len) letter indices
    labels = torch.tensor(y_data, device=device)  # (seq_len,)
else:
    x_one_hot = [one_hot_lookup[x] for x in x_data]
    inputs = torch.tensor(x_one_hot, dtype=torch.float32, device=device).view(seq_len, batch_size, input_size)
    if variant == 'rnncell':
        labels = torch.tensor(y_data, device=device).view(-1, 1)  # (seq_len, 1): one label per step
    else:
        labels = torch.tensor(y_data, device=device)  # (seq_len * batch,)


# -- the models ------------------------------------------------------------------------------------
class CellModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnncell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size)

    def forward(self, input, hidden):  # input (batch, input_size), hidden (batch, hidden_size)
        return self.rnncell(input, hidden)  # the next hidden (batch, hidden_size)


class RNNModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=1)

    def forward(self, input):  # (seq_len, batch, input_size)
        hidden = torch.zeros(1, input.size(1), hidden_size, device=input.device)  # (num_layers, batch, hidden)
        out, _ = self.rnn(input, hidden)  # out (seq_len, batch, hidden_size)
        return out.view(-1, hidden_size)  # (seq_len * batch, hidden_size): the scores of each step


class EmbeddingModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(input_size, embedding_size)
        self.rnn = torch.nn.RNN(input_size=embedding_size, hidden_size=emb_hidden_size,
                                num_layers=num_layers, batch_first=True)
        self.fc = torch.nn.Linear(emb_hidden_size, num_class)

    def forward(self, x):  # (batch, seq_len) letter indices
        hidden = torch.zeros(num_layers, x.size(0), emb_hidden_size, device=x.device)
        x = self.emb(x)  # (batch, seq_len, embedding_size)
        x, _ = self.rnn(x, hidden)  # (batch, seq_len, emb_hidden_size)
        x = self.fc(x)  # (batch, seq_len, num_class)
        return x.view(-1, num_class)  # (batch * seq_len, num_class)


model = {'rnncell': CellModel, 'rnn': RNNModel, 'embedding': EmbeddingModel}[variant]().to(device)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=lr)

# -- training --------------------------------------------------------------------------------------
for epoch in range(1, epochs + 1):
    optimizer.zero_grad()
    if variant == 'rnncell':
        loss = 0
        hidden = torch.zeros(batch_size, hidden_size, device=device)  # h0
        steps = []
        for input, label in zip(inputs, labels):  # input (1, 4), label (1,): one step
            hidden = model(input, hidden)  # h_t from x_t and h_(t-1)
            loss += criterion(hidden, label)  # the five steps' losses, added up
            steps.append(hidden)
        outputs = torch.cat(steps)  # (5, 4): the scores of each step
    else:
        outputs = model(inputs)  # (5, 4): all five steps at once
        loss = criterion(outputs, labels)
    loss.backward()
    optimizer.step()

    idx = outputs.argmax(dim=1).tolist()  # this epoch's forward pass, before the update
    predicted = ''.join(idx2char[i] for i in idx)
    accuracy = sum(p == y for p, y in zip(idx, y_data)) / seq_len
    print('Predicted string:', predicted, ', Epoch [%d/%d] loss = %.4f' % (epoch, epochs, loss.item()))

print(f'final train: loss {loss.item():.5g}  accuracy {accuracy:.5g}')
