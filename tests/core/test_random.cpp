// The simulations' random numbers: right distributions, reproducible streams.
#include "common/random.h"

#include <QtTest>

#include <cmath>

using paudm::Rng;

class TestRandom : public QObject {
    Q_OBJECT
private slots:
    void normalHasTheMomentsAndTailsOfAGaussian() {
        Rng rng(42);
        const int n = 4'000'000;
        double s1 = 0, s2 = 0, s4 = 0;
        int beyond3 = 0, beyond4 = 0;
        for (int i = 0; i < n; ++i) {
            const double z = rng.normal();
            s1 += z;
            s2 += z * z;
            s4 += z * z * z * z;
            beyond3 += std::abs(z) > 3;
            beyond4 += std::abs(z) > 4;
        }
        const double mean = s1 / n, var = s2 / n - mean * mean, kurt = s4 / n;
        // Standard errors for n draws: mean 1/sqrt(n) = 5e-4, variance sqrt(2/n) = 7e-4,
        // fourth moment sqrt(96/n) = 5e-3. Allow 5 of them.
        QVERIFY2(std::abs(mean) < 2.5e-3, qPrintable(QString::number(mean)));
        QVERIFY2(std::abs(var - 1) < 3.5e-3, qPrintable(QString::number(var)));
        QVERIFY2(std::abs(kurt - 3) < 0.025, qPrintable(QString::number(kurt)));
        // P(|z| > 3) = 2.6998e-3 and P(|z| > 4) = 6.334e-5 (the normal tail; the ziggurat's
        // base layer draws these from the exact tail). Binomial errors: 104 and 16 counts.
        QVERIFY2(std::abs(beyond3 - 2.6998e-3 * n) < 5 * 104, qPrintable(QString::number(beyond3)));
        QVERIFY2(std::abs(beyond4 - 6.334e-5 * n) < 5 * 16, qPrintable(QString::number(beyond4)));
    }

    void poissonHasItsMeanAndVariance() {
        for (double mean : {0.7, 3.5, 29.0, 31.0, 400.0}) {
            Rng rng(7);
            const int n = 400'000;
            double s1 = 0, s2 = 0;
            for (int i = 0; i < n; ++i) {
                const double k = rng.poisson(mean);
                QCOMPARE(k, std::floor(k));
                s1 += k;
                s2 += k * k;
            }
            const double m = s1 / n, v = s2 / n - m * m;
            // Errors: sqrt(mean/n) for the mean, about mean*sqrt(2/n) for the variance.
            QVERIFY2(std::abs(m - mean) < 5 * std::sqrt(mean / n), qPrintable(QString("%1 -> %2").arg(mean).arg(m)));
            QVERIFY2(std::abs(v - mean) < 5 * mean * std::sqrt(2.0 / n) + 0.02,
                     qPrintable(QString("%1 -> var %2").arg(mean).arg(v)));
        }
    }

    void streamsAreReproducibleAndIndependent() {
        Rng a = Rng::stream({1, 2, 3}), b = Rng::stream({1, 2, 3}), c = Rng::stream({1, 2, 4});
        int same = 0;
        for (int i = 0; i < 1000; ++i) {
            const auto x = a.next();
            QCOMPARE(x, b.next());
            same += x == c.next();
        }
        QCOMPARE(same, 0);
        // Correlation between neighbouring streams: about 1/sqrt(n) for independent ones.
        Rng s = Rng::stream({9, 0}), t = Rng::stream({9, 1});
        double sxy = 0;
        const int n = 200'000;
        for (int i = 0; i < n; ++i) sxy += s.normal() * t.normal();
        QVERIFY(std::abs(sxy / n) < 5 / std::sqrt(double(n)));
    }
};

QTEST_APPLESS_MAIN(TestRandom)
#include "test_random.moc"
